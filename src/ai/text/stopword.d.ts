// The stopword package ships no type declarations; these cover the lists this project imports.
declare module 'stopword' {
  export function removeStopwords(tokens: string[], stopwords?: string[]): string[];
  export const eng: string[];
  export const spa: string[];
  export const fra: string[];
  export const deu: string[];
  export const ita: string[];
  export const por: string[];
  export const nld: string[];
  export const swe: string[];
  export const pol: string[];
  export const rus: string[];
  export const tur: string[];
}
