import type { FastifyPluginAsync, preValidationHookHandler } from 'fastify';
import type { BackupRequest, RestoreRequest } from '../../backup/index.js';
import type { HttpContext } from '../context.js';
import {
  backendPath,
  backupCreateBody,
  backupPath,
  backupRestoreBody,
  listQuery,
  scopeQuery,
} from '../schemas/backups.js';

type Scoped = { Params: { backend: string; id: string }; Querystring: { bucket?: string; path?: string } };

/** go-swagger skips validating a zero CPUPercentage, which Weaviate then treats as unset (50). */
const zeroCpuIsUnset: preValidationHookHandler = async (request) => {
  const config = (request.body as { config?: { CPUPercentage?: unknown } } | undefined)?.config;
  if (config?.CPUPercentage === 0) delete config.CPUPercentage;
};

const scope = (query: { bucket?: string; path?: string }) => ({ bucket: query.bucket, path: query.path });

/** Backups: Weaviate's /v1/backups routes. */
export const backupRoutes: FastifyPluginAsync<HttpContext> = async (app, { backups }) => {
  app.post<{ Params: { backend: string }; Body: BackupRequest }>(
    '/backups/:backend',
    {
      schema: { tags: ['backups'], summary: 'Start a backup', params: backendPath, body: backupCreateBody },
      preValidation: zeroCpuIsUnset,
    },
    async (request) => backups.createBackup(request.params.backend, request.body ?? {}),
  );

  app.get<{ Params: { backend: string }; Querystring: { order: 'asc' | 'desc' } }>(
    '/backups/:backend',
    {
      schema: { tags: ['backups'], summary: 'List backups by start time', params: backendPath, querystring: listQuery },
    },
    async (request) => backups.listBackups(request.params.backend, request.query.order),
  );

  app.get<Scoped>(
    '/backups/:backend/:id',
    {
      schema: {
        tags: ['backups'],
        summary: 'Status of a backup, with progress',
        params: backupPath,
        querystring: scopeQuery,
      },
    },
    async (request) => backups.backupStatus(request.params.backend, request.params.id, scope(request.query)),
  );

  app.delete<Scoped>(
    '/backups/:backend/:id',
    { schema: { tags: ['backups'], summary: 'Cancel a running backup', params: backupPath, querystring: scopeQuery } },
    async (request, reply) => {
      await backups.cancelBackup(request.params.backend, request.params.id, scope(request.query));
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { backend: string; id: string }; Body: RestoreRequest }>(
    '/backups/:backend/:id/restore',
    {
      schema: { tags: ['backups'], summary: 'Start a restore', params: backupPath, body: backupRestoreBody },
      preValidation: zeroCpuIsUnset,
    },
    async (request) => backups.restoreBackup(request.params.backend, request.params.id, request.body ?? {}),
  );

  app.get<Scoped>(
    '/backups/:backend/:id/restore',
    {
      schema: {
        tags: ['backups'],
        summary: 'Status of a restore, with progress',
        params: backupPath,
        querystring: scopeQuery,
      },
    },
    async (request) => {
      const { startedAt, completedAt, size, ...status } = await backups.restoreStatus(
        request.params.backend,
        request.params.id,
        scope(request.query),
      );
      return status;
    },
  );

  app.delete<Scoped>(
    '/backups/:backend/:id/restore',
    { schema: { tags: ['backups'], summary: 'Cancel a running restore', params: backupPath, querystring: scopeQuery } },
    async (request, reply) => {
      await backups.cancelRestore(request.params.backend, request.params.id, scope(request.query));
      return reply.status(204).send();
    },
  );
};
