// Types for the deep import in src/auth/passwords.ts (the package only types its index).
declare module '@zxcvbn-ts/language-en/dist/translations.mjs' {
  const translations: import('@zxcvbn-ts/core').TranslationKeys;
  export default translations;
}
