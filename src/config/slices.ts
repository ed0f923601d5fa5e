/**
 * Config slices: the part of the config each component reads, cut in one place, so a component
 * never receives the whole config for the sake of a few keys.
 */
import type { BatchOptions } from '../core/batch.js'
import type { Config } from './parse.js'

/** MAX_ITEMS_PER_DELIVERY: most outbox items one delivery takes. */
export const MAX_ITEMS_PER_DELIVERY = 500

/** batchOptions is the rendering and resolve policy for one turn; newToken makes button tokens (none: no buttons). */
export function batchOptions(config: Config, now: number, newToken?: () => string): BatchOptions {
  return {
    templates: config.messages.templates,
    severities: config.messages.severities,
    hideLabels: config.messages.hideLabels,
    timeZone: config.messages.timeZone,
    flapWindowMs: config.flapping.windowMs,
    now,
    resolved: config.messages.resolved,
    resolvedUnannounced: config.messages.resolvedUnannounced,
    maxItems: MAX_ITEMS_PER_DELIVERY,
    digestMaxAlerts: config.storms.digestMaxAlerts,
    durationsMs: config.silences.durationsMs,
    // buttons only where someone can press them: the bot must be receiving updates
    ...(newToken && config.silences.buttons && config.telegram.updates !== 'off' ? { newToken } : {}),
  }
}
