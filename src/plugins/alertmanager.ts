/** The Alertmanager client the bot and the ack watcher share, made anew when a reload changes Alertmanager's settings. */
import fp from 'fastify-plugin'
import { AlertmanagerClient } from '../alertmanager/client.js'
import type { Config } from '../config/parse.js'
import type { AppServer } from '../receiver/routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    alertmanager: () => AlertmanagerClient
  }
}

/** clientFor builds a client from the alertmanager slice of the config. */
function clientFor(settings: Config['alertmanager']): AlertmanagerClient {
  const { url, timeoutMs, basicAuth, bearerToken } = settings
  return new AlertmanagerClient({ url, timeoutMs, ...(basicAuth ? { basicAuth } : {}), ...(bearerToken ? { bearerToken } : {}) })
}

/** alertmanagerPlugin gives the current client. */
export const alertmanagerPlugin = fp(
  async (server: AppServer) => {
    let cached: { for: Config['alertmanager']; client: AlertmanagerClient } | undefined
    server.decorate('alertmanager', () => {
      const settings = server.settings.current().alertmanager
      if (cached?.for !== settings) cached = { for: settings, client: clientFor(settings) }
      return cached.client
    })
  },
  { name: 'alertmanager', dependencies: ['config'] },
)
