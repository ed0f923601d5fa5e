/**
 * What a chat names, read as a person reads it: a digest run's heading says once what its values
 * share (`🟠 NodeDown · instance ….example.com:9100`) and each line what differs (`node-7`, or
 * `✅ node-7` once resolved), so the full value is heading + line. Tests and the storm bench count
 * an alert as named only when its full value can be put back together from what the chat shows.
 */

/** heading: a run's heading that names the label, with what its values share around the ellipsis (or nothing shared), maybe more labels after a comma. */
function heading(label: string): RegExp {
  return new RegExp(`^\\S+ .+ · ${label}(?: (.*?)…(.*?))?(?:, .*)?$`)
}

/**
 * namedValues returns every value of `label` a message's plain text names in full, as a set:
 * values written whole anywhere (a single alert's message, a run too short to factor), and values a
 * digest line shows in part under a heading that carries the rest. `full` says what a whole value
 * looks like (anchored), so a footer or a count is never taken for a name.
 */
export function namedValues(text: string, full: RegExp, label = 'instance'): Set<string> {
  const found = new Set<string>()
  const anchored = new RegExp(`^(?:${full.source})$`)
  const anywhere = new RegExp(full.source, 'g')
  const isHeading = heading(label)
  let around: [string, string] | undefined
  for (const line of text.split('\n')) {
    for (const match of line.matchAll(anywhere)) found.add(match[0])
    const head = isHeading.exec(line)
    if (head) {
      around = [head[1] ?? '', head[2] ?? '']
      continue
    }
    if (!around) continue
    const value = `${around[0]}${line.replace(/^✅ /, '')}${around[1]}`
    if (anchored.test(value)) found.add(value)
  }
  return found
}
