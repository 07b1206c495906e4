/** The built-in formats and the default registry that holds them. */
import csv from '../../formats/csv/index.js';
import ndjson from '../../formats/ndjson/index.js';
import segments from '../../formats/segments/index.js';
import tsv from '../../formats/tsv/index.js';
import { FormatRegistry } from './registry.js';

export const builtinFormats = [csv, tsv, ndjson, segments] as const;

/** The registry `pipeline` uses unless given another. Register your own formats here or make a new one. */
export const defaultRegistry = new FormatRegistry(builtinFormats);
