import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Credentials } from '../sdk/core';

/**
 * Where `dwc login` keeps the deployment's URL and the credentials: $DWC_CONFIG, or
 * ~/.config/dwc/config.json. The file holds a secret (a refresh token or an API key), so it is
 * written with mode 0600 and its folder 0700, and its mode is set again on every write in case
 * the file existed with a looser one.
 */
export type Config = { url: string; credentials: Credentials };

export const configPath = () => process.env.DWC_CONFIG ?? path.join(homedir(), '.config', 'dwc', 'config.json');

export function readConfig(): Config | null {
  const file = configPath();
  if (!existsSync(file)) return null;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { url?: unknown; credentials?: unknown };
  if (typeof raw.url !== 'string') throw new Error(`${file} is not a dwc config (no url); run dwc login again`);
  return { url: raw.url, credentials: (raw.credentials ?? null) as Credentials };
}

export function writeConfig(config: Config): string {
  const file = configPath();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The URL and credentials to use: the environment (DWC_URL, DWC_API_KEY) over the config file. */
export function resolveConfig(): Config {
  const stored = readConfig();
  const url = process.env.DWC_URL ?? stored?.url;
  if (!url) throw new Error('Not logged in: run `dwc login --url <deployment> …` or set DWC_URL');
  const credentials = process.env.DWC_API_KEY ? { apiKey: process.env.DWC_API_KEY } : (stored?.credentials ?? null);
  return { url, credentials };
}
