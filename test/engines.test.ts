/**
 * The Node versions alertwire supports are the ones `npm ci` installs on without an engine warning
 * (EBADENGINE): every package of the lockfile must accept every version of package.json's
 * `engines.node`, not only the Node running the tests. The README and the Docker image name them.
 */
import { readFileSync } from 'node:fs'
import semver from 'semver'
import t from 'tap'

interface LockedPackage {
  version?: string
  engines?: Record<string, string> | string[]
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockedPackage> }
const supported = pkg.engines.node

/** nodeRangeOf reads a locked package's `engines.node`; npm ignores the old array form, and so do we. */
function nodeRangeOf(locked: LockedPackage): string | undefined {
  return locked.engines && !Array.isArray(locked.engines) ? locked.engines.node : undefined
}

t.test('package.json names Node 20 and 22, and the Node running the tests is one of them', async (t) => {
  t.ok(semver.validRange(supported), `engines.node ${supported} is a range`)
  t.ok(semver.satisfies('20.19.0', supported) && semver.satisfies('22.13.0', supported), supported)
  t.ok(semver.satisfies(process.version, supported), `this Node (${process.version}) is supported`)
})

t.test('every locked package accepts every supported Node version: npm ci warns about none', async (t) => {
  const refusing: string[] = []
  for (const [path, locked] of Object.entries(lock.packages)) {
    const range = nodeRangeOf(locked)
    if (!path || !range) continue
    // subset: each version we support is inside the package's range (a package's range may be
    // loose, so an invalid one counts as refusing, as npm would warn about it)
    if (!semver.validRange(range) || !semver.subset(supported, range))
      refusing.push(`${path.replace(/^.*node_modules\//, '')}@${locked.version} requires node ${range}`)
  }
  t.same(refusing, [], `packages that refuse part of ${supported}`)
})

t.test('the Docker image runs a supported Node, and the README says which', async (t) => {
  const majors = [...readFileSync('Dockerfile', 'utf8').matchAll(/^FROM node:(\d+)[-\w.]*/gm)].map((m) => m[1]!)
  t.ok(majors.length >= 2, 'build and run stages start FROM node')
  t.equal(new Set(majors).size, 1, 'one Node for both stages')
  const major = majors[0]!
  t.ok(semver.intersects(`${major}.x`, supported), `Node ${major} is within ${supported}`)
  const readme = readFileSync('README.md', 'utf8')
  t.match(readme, new RegExp(`Docker image\\s+runs Node ${major}\\b`), 'the README names the image’s Node')
  for (const line of supported.split('||')) {
    const floor = semver.minVersion(line.trim())!
    t.match(
      readme,
      new RegExp(`Node ${floor.major}\\s+\\(${floor.major}\\.${floor.minor} or later\\)`),
      `the README names Node ${floor.major} and its oldest release`,
    )
  }
})
