/**
 * Stopword lists keyed by the ISO 639-3 codes franc-min returns. Only a handful of lists are
 * imported: the stopword package is ESM, so the bundler drops the other sixty-odd lists.
 */
import { deu, eng, fra, ita, nld, pol, por, rus, spa, swe, tur } from 'stopword';

// The package's English list is short (about a hundred words) and lacks common function words,
// which makes RAKE's phrases run long ("solar will not"); these are added from the usual
// function-word inventory of English (auxiliaries, negation, pronouns, discourse adverbs).
const ENGLISH_EXTRA = [
  'its', "it's", 'not', 'no', 'nor', 'so', 'will', 'just', 'when', 'why', 'whose', 'whom', 'yet', 'off', 'down',
  'again', 'further', 'once', 'does', 'doing', 'having', 'few', 'own', 'can', 'cannot', "can't", "don't", "doesn't",
  "isn't", "aren't", "won't", 'us', 'she', 'hers', 'ours', 'yours', 'theirs', 'itself', 'themselves', 'herself',
  'myself', 'ourselves', 'yourself', 'is', 'be', 'shall', 'may', 'also', 'even', 'every', 'either', 'neither',
  'however', 'thus', 'therefore', 'although', 'though', 'unless', 'until', 'upon', 'within', 'without', 'across',
  'along', 'among', 'around', 'against', 'during', 'toward', 'towards', 'onto', 'via', 'per', 'above', 'below',
  'after', 'often', 'always', 'already', 'almost', 'quite', 'rather', 'really', 'which', 'whether', 'whatever',
  'one', 'ones', 'lot', 'lots', 'let', 'lets', 'use', 'used', 'using', 'new', 'way', 'ways', 'thing', 'things',
  'able', 'about', 'll', "'s", 're', 've',
  // High-frequency general verbs: without a part-of-speech tagger they otherwise glue subjects to
  // objects ("teams need tools"), and they are almost never part of a key phrase themselves.
  'become', 'becomes', 'became', 'makes', 'made', 'takes', 'took', 'taken', 'gives', 'gave', 'given', 'give',
  'keep', 'keeps', 'kept', 'need', 'needs', 'needed', 'seem', 'seems', 'seemed', 'go', 'goes', 'went', 'gone',
  'say', 'says', 'see', 'sees', 'saw', 'seen', 'gets', 'put', 'puts', 'comes', 'want', 'wants', 'wanted', 'know',
  'knows', 'knew', 'known', 'think', 'thinks', 'thought', 'show', 'shows', 'showed', 'shown', 'help', 'helps',
  'try', 'tries', 'tried', 'find', 'finds', 'found', 'tell', 'tells', 'told', 'allow', 'allows', 'allowed',
  'include', 'includes', 'including', 'included', 'provide', 'provides', 'provided', 'mean', 'means', 'meant',
  'remain', 'remains', 'begin', 'begins', 'began', 'start', 'starts', 'started',
];

// The Spanish list lacks the forms of "ser", "estar" and "haber" and the demonstratives.
const SPANISH_EXTRA = [
  'es', 'son', 'era', 'eran', 'fue', 'fueron', 'ser', 'sido', 'está', 'están', 'estaba', 'estar', 'hay', 'ha', 'han',
  'he', 'hemos', 'había', 'este', 'esta', 'estos', 'estas', 'esa', 'esas', 'esos', 'aquel', 'aquella', 'todo', 'toda',
  'todos', 'todas', 'cada', 'entre', 'les', 'nuestro', 'nuestra', 'nuestros', 'nuestras', 'puede', 'pueden',
];

const LISTS: Record<string, ReadonlySet<string>> = {
  eng: new Set([...eng, ...ENGLISH_EXTRA]),
  spa: new Set([...spa, ...SPANISH_EXTRA]),
  fra: new Set(fra),
  deu: new Set(deu),
  ita: new Set(ita),
  por: new Set(por),
  nld: new Set(nld),
  swe: new Set(swe),
  pol: new Set(pol),
  rus: new Set(rus),
  tur: new Set(tur),
};

/** The stopword set for a language code; English when the language has no list or is unknown. */
export function stopwordsFor(code: string | undefined): ReadonlySet<string> {
  return (code && LISTS[code]) || (LISTS.eng as ReadonlySet<string>);
}
