/**
 * Schema errors in the words an operator reads: where (`routes[2].matchers[0]`, not the JSON
 * pointer `/routes/2/matchers/0`) and which fields are missing. One module for everything alertwire
 * checks against a schema: the config, the webhook (Ajv, through Fastify) and Alertmanager's answers
 * (TypeBox). Pure.
 */

/** SchemaIssue: one failed check, in the shape Ajv and TypeBox's Value.Errors both report. */
export interface SchemaIssue {
  instancePath: string
  keyword?: string
  message?: string
  params: object
}

/** pathText writes a JSON pointer ("/routes/2/per") or path parts the way operators read it ("routes[2].per"). */
export function pathText(pointer: string | readonly (string | number)[]): string {
  const parts =
    typeof pointer === 'string'
      ? pointer
          .split('/')
          .slice(1)
          .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      : pointer.map(String)
  return parts.reduce<string>((out, part) => (/^[0-9]+$/.test(part) ? `${out}[${part}]` : childPath(out, part)), '')
}

/** childPath names a field below a path ("alerts[0]" and "status": "alerts[0].status"; at the top, the field alone). */
export function childPath(path: string, name: string): string {
  return path ? `${path}.${name}` : name
}

/**
 * issueFields names the fields an issue is about: for a missing-field issue the missing ones (Ajv
 * names one in missingProperty, TypeBox all in requiredProperties), else the field at its path
 * ('' is the whole document).
 */
export function issueFields(issue: SchemaIssue): string[] {
  const path = pathText(issue.instancePath)
  const params = issue.params as { missingProperty?: unknown; requiredProperties?: unknown }
  if (typeof params.missingProperty === 'string') return [childPath(path, params.missingProperty)]
  if (Array.isArray(params.requiredProperties)) return params.requiredProperties.map((name) => childPath(path, String(name)))
  return [path]
}
