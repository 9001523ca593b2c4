import { createHandler } from './app.ts';
import { parseCredentialsConfig } from './config.ts';

/** The Lambda entry: the configuration is read from the environment once per container. */
export const handler = createHandler({ config: parseCredentialsConfig(process.env) });
