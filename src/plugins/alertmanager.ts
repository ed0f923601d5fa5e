/**
 * The Alertmanager client the bot and the ack watcher share, made anew when a reload changes
 * Alertmanager's settings; through alertmanager.proxy_url (or the standard proxy variables) when set.
 */
import fp from 'fastify-plugin'
import { AlertmanagerClient } from '../alertmanager/client.js'
import type { Config } from '../config/parse.js'
import type { AppServer } from '../receiver/routes.js'
import { type ProxiedTransport, proxiedTransport } from '../telegram/proxy.js'

declare module 'fastify' {
  interface FastifyInstance {
    alertmanager: () => AlertmanagerClient
  }
}

/** clientFor builds a client from the alertmanager slice of the config. */
function clientFor(settings: Config['alertmanager'], transport: ProxiedTransport): AlertmanagerClient {
  const { url, timeoutMs, basicAuth, bearerToken } = settings
  return new AlertmanagerClient({ url, timeoutMs, fetch: transport.fetch, ...(basicAuth ? { basicAuth } : {}), ...(bearerToken ? { bearerToken } : {}) })
}

/** alertmanagerPlugin gives the current client. */
export const alertmanagerPlugin = fp(
  async (server: AppServer) => {
    let cached: { for: Config['alertmanager']; client: AlertmanagerClient; transport: ProxiedTransport } | undefined
    server.decorate('alertmanager', () => {
      const settings = server.settings.current().alertmanager
      if (cached?.for !== settings) {
        // the old proxy connections close once their requests have finished
        void cached?.transport.close()
        const transport = proxiedTransport(settings.proxy, { connectTimeoutMs: settings.timeoutMs })
        cached = { for: settings, client: clientFor(settings, transport), transport }
      }
      return cached.client
    })
    server.addHook('onClose', async () => {
      await cached?.transport.close()
    })
  },
  { name: 'alertmanager', dependencies: ['config'] },
)
