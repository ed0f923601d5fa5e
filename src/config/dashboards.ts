/**
 * Dashboards in the chat (config `dashboards:`): named lists of panels the bot answers with a
 * compact summary and graphs (bot/graphs.ts). The schema is here, beside its compilation; the
 * checks the schema cannot make (a name that is also a command of the bot) give errors naming
 * the path.
 */
import { COMMANDS } from '../core/commands.js'
import Type from 'typebox'

/** DASHBOARD_NAME_PATTERN: a dashboard's name is its command (/performance): lower case, at most 32 characters. */
export const DASHBOARD_NAME_PATTERN = '^[a-z][a-z0-9_]{0,31}$'

const PanelSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 40, expected: 'a short title, like "Success rate"' }),
    query: Type.String({ minLength: 1, expected: 'a PromQL expression' }),
    // optional rather than defaulted: defaults do not reach into a record's values (the compilation fills them in)
    unit: Type.Optional(Type.String({ expected: 'ratio, percent, seconds, bytes, or any text written after the value (req/s)' })),
    graph: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

/** DashboardsSchema: the `dashboards:` key: name → {title, who, panels}. */
export const DashboardsSchema = Type.Record(
  Type.String({ pattern: DASHBOARD_NAME_PATTERN }),
  Type.Object(
    {
      title: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
      who: Type.Optional(Type.Enum(['admins', 'members'], { expected: 'admins or members (everyone in a chat alertwire serves)' })),
      panels: Type.Array(PanelSchema, { minItems: 1, maxItems: 20, expected: 'a list of 1 to 20 panels' }),
    },
    { additionalProperties: false },
  ),
  { default: {}, expected: 'a mapping of dashboard names (lower case, like performance) to {panels: [...]}' },
)

/** Panel: one line (or a few, one per series) of a dashboard, and optionally its graph. */
export interface Panel {
  title: string
  query: string
  unit: string
  graph: boolean
}

/** Dashboard: a named dashboard, compiled. */
export interface Dashboard {
  name: string
  title: string
  who: 'admins' | 'members'
  panels: Panel[]
}

/** RESERVED: the bot's own commands and the seed's aliases: a dashboard cannot take their names. */
export const RESERVED: readonly string[] = [...COMMANDS.map((c) => c.command), 'analytics', 'start']

type RawDashboards = Type.Static<typeof DashboardsSchema>

/** compileDashboards turns `dashboards:` into a map by name, adding an error for every name that is a command of the bot. */
export function compileDashboards(raw: RawDashboards, errors: string[]): ReadonlyMap<string, Dashboard> {
  const dashboards = new Map<string, Dashboard>()
  for (const [name, dashboard] of Object.entries(raw)) {
    if (!new RegExp(DASHBOARD_NAME_PATTERN).test(name)) {
      errors.push(`dashboards.${name}: expected a name of lower-case letters, digits and _ (at most 32, a letter first): it is the command, like /performance`)
      continue
    }
    if (RESERVED.includes(name)) {
      errors.push(`dashboards.${name}: /${name} is a command of the bot already; name the dashboard otherwise`)
      continue
    }
    const title = dashboard.title ?? name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, ' ')
    const panels = dashboard.panels.map((p) => ({ title: p.title, query: p.query, unit: p.unit ?? '', graph: p.graph ?? false }))
    dashboards.set(name, { name, title, who: (dashboard.who ?? 'admins') as Dashboard['who'], panels })
  }
  return dashboards
}
