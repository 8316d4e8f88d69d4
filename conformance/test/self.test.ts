import test from 'ava';
import { describeBackendConformance } from '../src/index.js';
import { MemoryBackend } from './memory-backend.js';

// The reference backend passes every check.
describeBackendConformance(test, {
  createBackend: async () => ({ backend: new MemoryBackend(), alternatePath: 'elsewhere' }),
});
