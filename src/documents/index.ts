/** The documents feature's public module: reading a user's documents, uploads as Markdown, the converter Worker's RPC. */
export { type BinaryFormat, type ConverterRpc, converter, type LayoutFormat } from './converter';
export { type DocumentRow, getDocument } from './queries';
export { FileField } from './schemas';
export { MAX_CONTENT_CHARS, readUpload, type Upload, uploadMaxBytes, uploadTitle } from './uploads';
export { provenance } from './views';
