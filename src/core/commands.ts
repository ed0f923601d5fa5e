/**
 * The bot's commands, as a table: what bot/commands.ts reads, what setMyCommands registers and
 * /help lists, and the names a dashboard may not take (config/dashboards.ts). Pure data.
 */

/** COMMANDS: what the bot understands, as registered with setMyCommands. */
export const COMMANDS = [
  { command: 'alerts', description: 'Firing alerts, most severe first, with silence buttons' },
  { command: 'silences', description: 'Active silences, with an Expire button each' },
  { command: 'silence', description: 'Silence: /silence alertname=X instance=~"web-.*" 2h [comment]' },
  { command: 'unsilence', description: 'Expire a silence: /unsilence <id>' },
  { command: 'ack', description: 'Reply to an alert message: silence it until it resolves' },
  { command: 'take', description: 'Reply to an alert message: say you are on it (stops escalation, silences nothing)' },
  { command: 'release', description: 'Reply to an alert message you (or someone) took: give it back' },
  { command: 'timeline', description: 'Reply to an alert message: what happened to it, event by event' },
  { command: 'mute', description: "Pause this chat's notifications: /mute 30m" },
  { command: 'unmute', description: "Resume this chat's notifications" },
  { command: 'status', description: 'alertwire and Alertmanager health, queues, chats' },
  { command: 'graph', description: 'Graph a PromQL expression: /graph rate(x[5m]) 6h (admins)' },
  { command: 'dashboards', description: 'The dashboards; /<name> (or /dashboard <name> [range]) shows one' },
  { command: 'dashboard', description: 'A dashboard: /dashboard <name> [1h|24h|7d]' },
  { command: 'metrics', description: 'A dashboard, as the doradura bot said it: /metrics performance' },
  { command: 'oncall', description: 'Who is on call now and next; admins override: /oncall @bob 8h' },
  { command: 'help', description: 'What the bot can do' },
] as const

export type CommandName = (typeof COMMANDS)[number]['command']
