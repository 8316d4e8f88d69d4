import { MAX_CLASS_PROPERTIES } from '../../db/index.js';

/** JSON schemas of schema requests: Weaviate's `Class` as far as Strata validates it up front. */

export const classBody = {
  type: 'object',
  required: ['class'],
  properties: {
    class: { type: 'string', description: 'The class name; its first letter is upper-cased.' },
    description: { type: 'string' },
    properties: {
      type: 'array',
      // Checked before the items, so an oversized list is refused without reading it.
      maxItems: MAX_CLASS_PROPERTIES,
      items: {
        type: 'object',
        required: ['name', 'dataType'],
        properties: {
          name: { type: 'string' },
          dataType: { type: 'array', items: { type: 'string' } },
          description: { type: 'string' },
        },
      },
    },
    vectorizer: { type: 'string' },
    shardingConfig: { type: 'object' },
    multiTenancyConfig: { type: 'object' },
  },
} as const;

export const classPath = {
  type: 'object',
  required: ['className'],
  properties: { className: { type: 'string' } },
} as const;
