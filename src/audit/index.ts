/** The audit feature's public module. (Writing an audit entry is platform code: src/lib/audit.ts.) */
export { csvField } from './export';
