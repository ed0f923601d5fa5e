/**
 * Unknown webhook payload versions: each is logged once and counted, with memory and the counter's
 * series bounded whatever senders write there (a version is free text from the network).
 */

/** LOGGED_VERSIONS: distinct unknown versions remembered for "logged once"; past it new ones are not logged (still counted). */
const LOGGED_VERSIONS = 100
/** LABELLED_VERSIONS: distinct versions with a counter series of their own; the rest count as "other". */
const LABELLED_VERSIONS = 10
/** LABEL_TEXT: what a version must look like to name a series ("3", "v2", "1.0"). */
const LABEL_TEXT = /^[A-Za-z0-9._-]{1,16}$/

/** VersionSeen: whether to log this version (first time) and the counter label it counts under. */
export interface VersionSeen {
  first: boolean
  label: string
}

/** createVersionWatch remembers which unknown versions were logged and which have a series. */
export function createVersionWatch() {
  const logged = new Set<string>()
  const labelled = new Set<string>()
  return {
    /** note records a sighting of a version (undefined: the body had none). */
    note(version: string | undefined): VersionSeen {
      const key = version === undefined ? 'none' : `version:${version.slice(0, 64)}`
      const first = !logged.has(key) && logged.size < LOGGED_VERSIONS
      if (first) logged.add(key)
      if (version === undefined) return { first, label: 'none' }
      if (!labelled.has(version) && LABEL_TEXT.test(version) && labelled.size < LABELLED_VERSIONS) labelled.add(version)
      return { first, label: labelled.has(version) ? version : 'other' }
    },
  }
}
