/**
 * Entry point for `node --test test/unit/pre-token-generation/`: Node 24's test runner runs a
 * directory argument as a module (this file) instead of searching it, so this imports every test
 * file of the folder. `npm run test:unit` finds the same files by its glob and never loads this one.
 */
import { readdirSync } from 'node:fs';

const testFiles = readdirSync(import.meta.dirname)
  .filter((file) => file.endsWith('.test.ts'))
  .sort();
for (const file of testFiles) await import(`./${file}`);
