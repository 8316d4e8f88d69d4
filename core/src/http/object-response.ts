import type { StoredObject } from '../db/index.js';

/** Whether `include` (Weaviate's comma-separated query parameter) asks for the vector. */
export function wantsVector(include: string | undefined): boolean {
  return include?.split(',').some((part) => part.trim() === 'vector') ?? false;
}

/** An object as Weaviate's API returns it: vectors only when asked for. */
export function objectResponse(object: StoredObject, includeVector: boolean): Record<string, unknown> {
  const { vector, vectors, ...rest } = object;
  if (!includeVector) return rest;
  return { ...rest, ...(vector === undefined ? {} : { vector }), ...(vectors === undefined ? {} : { vectors }) };
}
