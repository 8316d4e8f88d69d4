import { MAX_CLASS_PROPERTIES } from '../../db/index.js';

/** JSON schemas of schema requests: Weaviate's `Class` as far as Strata validates it up front. */

export const classBody = {
  type: 'object',
  required: ['class'],
  properties: {
    class: { type: 'string', description: 'The class name; its first letter is upper-cased.' },
    // Null is Go's zero value to Weaviate: no description, no config, the default vectorizer.
    description: { type: 'string', nullable: true },
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
          description: { type: 'string', nullable: true },
        },
      },
    },
    vectorizer: { type: 'string', nullable: true },
    shardingConfig: { type: 'object', nullable: true },
    multiTenancyConfig: { type: 'object', nullable: true },
  },
} as const;

export const classPath = {
  type: 'object',
  required: ['className'],
  properties: { className: { type: 'string' } },
} as const;
