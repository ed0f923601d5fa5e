/**
 * Patterns of the config's addresses, strict enough that what passes can be connected to: a host
 * of letters, digits, dots, dashes and underscores (or a bracketed IPv6 address) and a port of
 * 1–65535, so new URL() and the clients never throw on a value check-config accepted.
 */

/** PORT: 1–65535 without leading zeros. */
const PORT = '([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])'

const HOST = '([A-Za-z0-9_.-]+|\\[[0-9A-Fa-f:.]+\\])'

/** HOST_PORT_PATTERN: host:port. */
export const HOST_PORT_PATTERN = `^${HOST}:${PORT}$`

/** HTTP_URL_PATTERN: an absolute http(s) URL, with user:password@ if it needs them, a port if not the scheme's, and any path. */
export const HTTP_URL_PATTERN = `^https?://([^\\s/?#@]*@)?${HOST}(:${PORT})?([/?#]\\S*)?$`
