// Loads manifest.json and Slack's manifest JSON schema, and compiles a validator.
// Paths are resolved from this file's location, never from process.cwd().
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its callable lives on `.default`.
const addFormats = addFormatsModule.default;

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const manifestPath = path.join(repoRoot, 'manifest.json');
/** Slack's published manifest schema, vendored with its MIT licence (a fresh clone needs nothing beside it). */
export const schemaPath = path.join(repoRoot, 'schemas', 'slack', 'manifest.schema.1.0.0.json');

export type JsonObject = Record<string, unknown>;

export function loadManifest(): JsonObject {
  return JSON.parse(readFileSync(manifestPath, 'utf8')) as JsonObject;
}

export function loadSchema(): JsonObject {
  return JSON.parse(readFileSync(schemaPath, 'utf8')) as JsonObject;
}

/**
 * The schema declares draft-07, which the default Ajv class implements.
 * `strict: false` because Slack's schema carries non-standard keywords
 * (`_note`, `regex`).
 */
export function createManifestValidator(schema: JsonObject = loadSchema()): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

/**
 * Parameter types Slack accepts for function inputs/outputs. The 1.0.0 schema only
 * enumerates them for the legacy `features.functions` parameter; the top-level
 * `functions` entries accept any string, so tests check types against this list.
 */
export function allowedParameterTypes(schema: JsonObject = loadSchema()): string[] {
  const definitions = schema.definitions as Record<string, JsonObject>;
  const parameter = definitions['slack-functions.parameter'] as {
    properties: { type: { enum: string[] } };
  };
  return parameter.properties.type.enum;
}
