/**
 * Language identification with franc-min (trigram profiles of the 82 languages with 8M+
 * speakers). The English name comes from the runtime's ICU data via Intl.DisplayNames, so no
 * name table is kept here.
 */
import { franc } from 'franc-min';
import { plainText } from './tokenize';

export type LanguageResult = { code: string; name?: string };

const displayNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });

/**
 * Detects the language of a text. `code` is ISO 639-3, or `und` when the text is too short
 * (franc's default minimum is 10 characters) or matches no profile well enough.
 *
 * @example detectLanguage('El sol sale por el este cada mañana.') // { code: 'spa', name: 'Spanish' }
 */
export function detectLanguage(text: string): LanguageResult {
  const code = franc(plainText(text));
  if (code === 'und') return { code };
  let name: string | undefined;
  try {
    name = displayNames.of(code);
  } catch (err) {
    // ICU rejects a few macrolanguage codes as malformed; the code alone is still a valid answer.
    if (!(err instanceof RangeError)) throw err;
  }
  return name && name !== code ? { code, name } : { code };
}
