import type { FastifyPluginAsync } from 'fastify';
import { CORE_VERSION } from '../../version.js';
import { type HttpContext, WEAVIATE_API_VERSION } from '../context.js';

/** GET /v1/meta and the liveness and readiness probes. */
export const metaRoutes: FastifyPluginAsync<HttpContext> = async (app, context) => {
  app.get('/meta', { schema: { tags: ['meta'], summary: 'Node meta information and enabled modules' } }, async () => ({
    hostname: context.hostname(),
    version: WEAVIATE_API_VERSION,
    modules: Object.fromEntries(context.modules.modules.map((module) => [module.name, module.meta])),
    strata: { version: CORE_VERSION },
  }));

  app.get(
    '/.well-known/live',
    { schema: { tags: ['well-known'], summary: 'Liveness: the process answers' } },
    async (_, reply) => reply.status(200).send(),
  );

  app.get(
    '/.well-known/ready',
    { schema: { tags: ['well-known'], summary: 'Readiness: the node serves requests' } },
    async (_, reply) => reply.status(context.ready() ? 200 : 503).send(),
  );
};
