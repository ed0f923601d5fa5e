/**
 * The links a message carries: each alert's source, runbook, dashboards and any annotation whose
 * value is a URL; Grafana's dashboard, panel, silence and image links; and the footer's link to the
 * alerts in Alertmanager (or Grafana). Telegram drops links to hosts without a dot (like
 * http://prometheus:9090), so those are shown as text instead of lost. Pure.
 */
import type { Labels } from './matchers.js'

/** Link: a URL to show, and whether Telegram will make it a link. */
export interface Link {
  title: string
  url: string
  linkable: boolean
}

/** httpUrl reads an absolute http(s) URL, or nothing. */
export function httpUrl(value: string | undefined): URL | undefined {
  if (!value) return undefined
  try {
    const url = new URL(value.trim())
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined
  } catch {
    return undefined
  }
}

/** isUrl: the whole value is one http(s) URL (such an annotation is shown as a link). */
export function isUrl(value: string): boolean {
  return !/\s/.test(value.trim()) && httpUrl(value) !== undefined
}

/** MAX_LINK_URL: longer URLs are shown (cut) as text rather than linked; Telegram refuses very long links. */
const MAX_LINK_URL = 2048
const LINKABLE_HOST = /^(\[[0-9a-f:.]+\]|([a-z0-9_-]+\.)+[a-z0-9_-]+)$/i

/** telegramLinkable: Telegram links http(s) URLs whose host has a dot (or is an IPv6 literal) and whose port is real; it drops the rest. */
export function telegramLinkable(url: URL): boolean {
  const port = url.port === '' ? 80 : Number(url.port)
  return url.href.length <= MAX_LINK_URL && LINKABLE_HOST.test(url.hostname) && port >= 1 && port <= 65535
}

function link(title: string, url: URL): Link {
  return { title, url: url.href, linkable: telegramLinkable(url) }
}

function titleFromKey(key: string): string {
  const words = key
    .replace(/_?(url|link)$/i, '')
    .replace(/[_-]+/g, ' ')
    .trim()
  return words ? words[0]!.toUpperCase() + words.slice(1) : 'Link'
}

/** LinkSource: what an alert carries that may hold links. */
export interface LinkSource {
  generatorURL?: string
  annotations: Labels
  grafana?: { dashboardURL?: string; panelURL?: string; silenceURL?: string; imageURL?: string }
}

/** annotationRank: runbooks first, then dashboards, then the rest by name. */
function annotationRank(key: string): number {
  return /^runbook/i.test(key) ? 0 : /^(dashboard|grafana)/i.test(key) ? 1 : 2
}

/** alertLinks lists an alert's links: its source, runbook, dashboards, other URL annotations, then Grafana's panel, silence and image. */
export function alertLinks(alert: LinkSource, hiddenAnnotation: (name: string) => boolean): Link[] {
  const links: Link[] = []
  const add = (title: string, value: string | undefined) => {
    const url = httpUrl(value)
    if (url && !links.some((l) => l.url === url.href)) links.push(link(title, url))
  }
  add('Source', alert.generatorURL)
  const keys = Object.keys(alert.annotations).filter((k) => !hiddenAnnotation(k) && isUrl(alert.annotations[k]!))
  keys.sort((a, b) => annotationRank(a) - annotationRank(b) || a.localeCompare(b))
  for (const key of keys) add(titleFromKey(key), alert.annotations[key])
  add('Dashboard', alert.grafana?.dashboardURL)
  add('Panel', alert.grafana?.panelURL)
  add('Silence', alert.grafana?.silenceURL)
  add('Image', alert.grafana?.imageURL)
  return links
}

/** alertsPageLink links to a message's alerts where they came from: Alertmanager filtered to the alertname, or Grafana's alert list. */
export function alertsPageLink(externalURL: string, source: 'alertmanager' | 'grafana', alertnames: readonly string[]): Link | undefined {
  const base = httpUrl(externalURL)
  if (!base) return undefined
  const root = base.href.replace(/\/$/, '')
  if (source === 'grafana') return link('Grafana', new URL(`${root}/alerting/list`))
  if (!telegramLinkable(base)) return link('Alertmanager', base)
  const filter = alertnames.length === 1 ? `?filter=${encodeURIComponent(`{alertname="${alertnames[0]}"}`)}` : ''
  return link('Alertmanager', new URL(`${root}/#/alerts${filter}`))
}
