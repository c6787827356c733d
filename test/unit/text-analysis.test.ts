import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/ai/text/analyze';
import { draftFromPrompt } from '../../src/ai/text/draft';
import { extractKeywords } from '../../src/ai/text/keywords';
import { detectLanguage } from '../../src/ai/text/language';
import { detectIntent, splitInstruction, topicOf } from '../../src/ai/text/prompt';
import { mattr, qualityOf } from '../../src/ai/text/quality';
import { countSyllables, readability } from '../../src/ai/text/readability';
import { sentimentOf } from '../../src/ai/text/sentiment';
import { summarize } from '../../src/ai/text/summarize';
import { MAX_TITLE_CHARS, MAX_TITLE_WORDS, makeTitle, TITLE_STYLES } from '../../src/ai/text/title';
import { countWords, documentSentences, markdownBlocks, splitSentences } from '../../src/ai/text/tokenize';

const SOLAR = [
  'Solar power is the conversion of sunlight into electricity.',
  'Solar panels on rooftops let households generate their own electricity.',
  'The cost of solar panels has fallen sharply over the past decade, which makes solar power competitive with fossil fuels.',
  'Battery storage solves the problem of intermittent supply, because batteries store surplus electricity for the night.',
  'Grid operators now plan for large amounts of solar power.',
  'Critics point out that manufacturing solar panels requires energy and rare materials.',
  'Still, most analysts expect solar power to keep growing.',
].join(' ');

const SOLAR_MARKDOWN = `# Solar power at home

Solar panels on rooftops let households generate their own electricity. The cost of solar panels has fallen sharply.

## Storage

- Battery storage keeps surplus electricity for the evening.
- Grid operators must adapt to many small producers.

\`\`\`
const watts = panels * 400;
\`\`\`

Most analysts expect **solar power** to keep growing, and [installers](https://example.com) agree.`;

const SHORT = 'Solar panels cut energy bills. Everyone loves cheaper energy.';
const MUNICIPAL =
  'Municipal utilities across the northern provinces are replacing ageing coal plants with solar farms, battery parks and demand response programmes. Grid operators welcome the change. Critics warn that the transition will raise prices for households in the short term, although most studies expect savings within a decade.';
const FARMS = 'Solar panels convert sunlight into electricity. Farms use them to cut costs. Surplus power is sold to the grid.';
const NASA = 'The rocket was built by NASA engineers in Houston. NASA engineers tested the rocket twice in Houston.';
const SPANISH = 'El sol es la estrella más cercana a la Tierra y proporciona la energía necesaria para la vida en nuestro planeta.';
// Every text of this file that the summary, keyword and title properties are checked over.
const FIXTURES = [SOLAR, SOLAR_MARKDOWN, SHORT, MUNICIPAL, FARMS, NASA, SPANISH];

describe('tokenize', () => {
  it('splits sentences without breaking on abbreviations or decimals', () => {
    expect(splitSentences('Dr. Smith paid 3.5 dollars. It was cheap! Was it? Yes.')).toEqual([
      'Dr. Smith paid 3.5 dollars.',
      'It was cheap!',
      'Was it?',
      'Yes.',
    ]);
  });

  it('reads markdown as headings, items and paragraphs, dropping code and inline markup', () => {
    const blocks = markdownBlocks(SOLAR_MARKDOWN);
    expect(blocks.map((b) => b.kind)).toEqual(['heading', 'paragraph', 'heading', 'item', 'item', 'paragraph']);
    expect(blocks[0]).toEqual({ kind: 'heading', text: 'Solar power at home', depth: 1 });
    expect(blocks[5]?.text).toBe('Most analysts expect solar power to keep growing, and installers agree.');
    expect(blocks.some((b) => b.text.includes('watts'))).toBe(false);
  });
});

describe('sentiment', () => {
  it('labels clearly positive and negative sentences with the AFINN sum', () => {
    const good = sentimentOf('I love this wonderful product, it is amazing and makes me happy.');
    expect(good.label).toBe('positive');
    expect(good.score).toBeGreaterThan(5);
    expect(good.comparative).toBeGreaterThan(0);
    const bad = sentimentOf('This is terrible. I hate it, the worst and most awful experience.');
    expect(bad.label).toBe('negative');
    expect(bad.score).toBeLessThan(-5);
  });

  it('calls a text without lexicon words neutral, and empty text scores zero', () => {
    expect(sentimentOf('The train leaves the station at noon.')).toEqual({ label: 'neutral', score: 0, comparative: 0 });
    expect(sentimentOf('')).toEqual({ label: 'neutral', score: 0, comparative: 0 });
  });

  it('follows negation ("not good" is negative)', () => {
    expect(sentimentOf('The food was not good.').label).toBe('negative');
  });
});

describe('keywords (RAKE)', () => {
  it('finds key phrases in a short text made of long runs (the README example)', () => {
    const text = 'Solar panels cut energy bills. Everyone loves cheaper energy.';
    const terms = analyzeText(text, ['sentiment', 'keywords']).keywords?.map((k) => k.term) ?? [];
    expect(terms.slice(0, 3)).toEqual(['cheaper energy', 'energy bills', 'solar panels']);
    expect(extractKeywords('Quarterly revenue grew.').map((k) => k.term)).toEqual(['quarterly revenue grew']);
    expect(extractKeywords('Municipal utilities replace ageing coal plants').map((k) => k.term)).toEqual([
      'municipal utilities',
      'coal plants',
    ]);
  });

  it('is never empty for a fixture text with a content word, and scores best first', () => {
    for (const text of FIXTURES) {
      const keywords = extractKeywords(text);
      expect(keywords.length, text).toBeGreaterThan(0);
      const scores = keywords.map((k) => k.score);
      expect(scores, text).toEqual([...scores].sort((a, b) => b - a));
    }
    expect(extractKeywords('It is what it is.')).toEqual([]);
  });

  it('finds the obvious key phrases of a paragraph first', () => {
    const top = extractKeywords(SOLAR)
      .slice(0, 2)
      .map((k) => k.term);
    expect(top).toEqual(['solar power', 'solar panels']);
    const all = extractKeywords(SOLAR).map((k) => k.term);
    expect(all).toContain('fossil fuels');
    expect(all).toHaveLength(10);
    expect(all.every((t) => !/\b(the|of|and|is)\b/.test(t))).toBe(true);
  });

  it('scores best first and keeps acronyms and names as written', () => {
    const keywords = extractKeywords(
      'The rocket was built by NASA engineers in Houston. NASA engineers tested the rocket twice in Houston.',
    );
    const scores = keywords.map((k) => k.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(keywords[0]?.term).toBe('NASA engineers');
    expect(keywords.map((k) => k.term)).toContain('Houston');
  });

  it('uses the stopwords of the detected language', () => {
    const text = 'El sol es la estrella más cercana a la Tierra y proporciona la energía necesaria para la vida en nuestro planeta.';
    const terms = analyzeText(text, ['keywords']).keywords?.map((k) => k.term) ?? [];
    expect(terms).toContain('energía necesaria');
    expect(terms.some((t) => /\b(la|es|el|para)\b/.test(t))).toBe(false);
  });
});

describe('readability', () => {
  it('counts syllables with the vowel-group heuristic', () => {
    expect(['cat', 'reading', 'wonderful', 'activity', 'table', 'make', 'boxes', 'wanted', 'jumped'].map(countSyllables)).toEqual([
      1, 2, 3, 4, 2, 1, 2, 2, 1,
    ]);
  });

  it('matches the Flesch formulas on a one-syllable sentence', () => {
    // 6 words, 1 sentence, 6 syllables:
    // FRE = 206.835 − 1.015·6 − 84.6·1 = 116.145; FKGL = 0.39·6 + 11.8·1 − 15.59 = −1.45
    const r = readability('The cat sat on the mat.');
    expect(r).toMatchObject({ words: 6, sentences: 1, syllables: 6 });
    expect(r.flesch_reading_ease).toBeCloseTo(116.145, 1);
    expect(r.flesch_kincaid_grade).toBeCloseTo(-1.45, 1);
  });

  it('matches the Flesch formulas on a polysyllabic sentence', () => {
    // read-ing(2) is(1) a(1) won-der-ful(3) ac-tiv-i-ty(4) = 11 syllables in 5 words, 1 sentence:
    // FRE = 206.835 − 1.015·5 − 84.6·2.2 = 15.64; FKGL = 0.39·5 + 11.8·2.2 − 15.59 = 12.32
    const r = readability('Reading is a wonderful activity.');
    expect(r.syllables).toBe(11);
    expect(r.flesch_reading_ease).toBeCloseTo(15.64, 1);
    expect(r.flesch_kincaid_grade).toBeCloseTo(12.32, 1);
  });

  it('leaves headings out of the sentence count and reports no score for empty text', () => {
    expect(readability('# A heading\n\nThe cat sat on the mat. The dog sat too.').sentences).toBe(2);
    expect(readability('')).toEqual({ flesch_reading_ease: null, flesch_kincaid_grade: null, words: 0, sentences: 0, syllables: 0 });
  });
});

describe('language', () => {
  it('detects English, Spanish and French paragraphs with ISO 639-3 codes and names', () => {
    expect(detectLanguage(SOLAR)).toEqual({ code: 'eng', name: 'English' });
    expect(
      detectLanguage(
        'La energía solar es una fuente renovable que se obtiene a partir de la radiación del sol. Cada año más hogares instalan paneles en sus tejados.',
      ),
    ).toEqual({ code: 'spa', name: 'Spanish' });
    expect(
      detectLanguage(
        "L'énergie solaire est une source renouvelable obtenue à partir du rayonnement du soleil. Chaque année, de plus en plus de foyers installent des panneaux sur leurs toits.",
      ),
    ).toEqual({ code: 'fra', name: 'French' });
  });

  it('answers und for text too short to tell', () => {
    expect(detectLanguage('Hi')).toEqual({ code: 'und' });
  });
});

describe('quality', () => {
  it('computes the moving-average type-token ratio', () => {
    expect(mattr(['a', 'b', 'a', 'b'], 2)).toBe(1);
    expect(mattr(['a', 'a', 'b'], 2)).toBe(0.75);
    expect(mattr(['a', 'a', 'b', 'c'], 10)).toBe(0.75);
  });

  it('scores varied prose above the same sentence repeated, and says which factor differs', () => {
    const varied = qualityOf(SOLAR);
    const repeated = qualityOf(Array(12).fill('Solar power is good for the planet.').join(' '));
    expect(varied.score).toBeGreaterThan(repeated.score);
    expect(repeated.factors.repetition.value).toBeCloseTo(11 / 12, 3);
    expect(repeated.factors.sentence_variety.value).toBe(0);
    expect(varied.factors.repetition.value).toBe(0);
    expect(varied.factors.length.value).toBe(readability(SOLAR).words);
    expect(varied.score).toBeGreaterThanOrEqual(0);
    expect(varied.score).toBeLessThanOrEqual(100);
  });

  it('leaves unmeasurable factors out instead of inventing them', () => {
    const single = qualityOf('Solar panels turn sunlight into electricity.');
    expect(single.factors.sentence_variety.value).toBeNull();
    expect(qualityOf('').score).toBe(0);
  });
});

describe('analyzeText', () => {
  it('returns only the requested analyses', () => {
    const result = analyzeText(SOLAR, ['sentiment', 'language']);
    expect(Object.keys(result).sort()).toEqual(['language', 'sentiment']);
  });

  it('returns all five by default', () => {
    expect(Object.keys(analyzeText(SOLAR)).sort()).toEqual(['keywords', 'language', 'quality', 'readability', 'sentiment']);
  });
});

describe('summarize (TextRank)', () => {
  const original = splitSentences(SOLAR);

  it('picks sentences from the original, in their original order, within the sentence budget', () => {
    const summary = summarize(SOLAR, { maxSentences: 3 });
    const picked = splitSentences(summary);
    expect(picked).toHaveLength(3);
    const positions = picked.map((s) => original.indexOf(s));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('stays within a word budget', () => {
    const summary = summarize(SOLAR, { maxWords: 25 });
    expect(summary.split(/\s+/).length).toBeLessThanOrEqual(25);
    expect(splitSentences(summary).every((s) => original.includes(s))).toBe(true);
  });

  it('cuts the best sentence with an ellipsis when no sentence fits the word budget', () => {
    // "Solar power is the" would end on function words, which the cut drops.
    expect(summarize(SOLAR, { maxWords: 4 })).toBe('Solar power…');
    expect(summarize(SOLAR, { maxWords: 8 })).toBe('Solar power is the conversion of sunlight…');
    // A clause boundary inside the budget is preferred to the last word that fits.
    const long = 'The cost of solar panels has fallen sharply over the past decade, which makes solar power competitive with fossil fuels.';
    expect(summarize(`${long} ${long.replace('cost', 'price')}`, { maxWords: 16 })).toBe(
      'The cost of solar panels has fallen sharply over the past decade…',
    );
  });

  it('never gives more words than asked, in whole sentences (README example: 10 and 40 words)', () => {
    expect(summarize(SOLAR, { maxWords: 10 })).toBe('Solar power is the conversion of sunlight into electricity.');
    const forty = summarize(SOLAR, { maxWords: 40 });
    expect(countWords(forty)).toBeLessThanOrEqual(40);
    expect(splitSentences(forty).every((s) => original.includes(s))).toBe(true);
    expect(splitSentences(forty).length).toBeGreaterThan(1);
  });

  it('counts words one way: whitespace tokens or letter-and-digit words, whichever is more', () => {
    expect(countWords('Solar — and wind')).toBe(4);
    expect(countWords('e.g. 3.5 GW')).toBe(5);
    expect(countWords("The sun's well-known glow.")).toBe(4);
    expect(countWords('  ')).toBe(0);
  });

  it('keeps every word budget from 5 to 80 on every fixture text, ending at a sentence end or with "…"', () => {
    for (const text of FIXTURES) {
      for (let maxWords = 5; maxWords <= 80; maxWords++) {
        const summary = summarize(text, { maxWords });
        const label = `${maxWords} words: ${summary}`;
        expect(summary.length, label).toBeGreaterThan(0);
        expect(countWords(summary), label).toBeLessThanOrEqual(maxWords);
        expect(summary.split(/\s+/).length, label).toBeLessThanOrEqual(maxWords);
        expect(summary, label).toMatch(/[.!?…]["'”’)\]]*$/);
        // Whole sentences of the original, or one cut sentence ending with the ellipsis.
        if (!summary.endsWith('…')) {
          const source = documentSentences(text).map((s) => s.text.replace(/\.?$/, '.'));
          expect(
            splitSentences(summary).every((s) => source.includes(s) || text.includes(s)),
            label,
          ).toBe(true);
        } else {
          expect(summary.slice(0, -1), label).not.toMatch(/[\s,;:—–-]$/);
        }
      }
    }
  });

  it('summarises markdown as prose, leaving out headings, bullets and code', () => {
    const summary = summarize(SOLAR_MARKDOWN, { maxSentences: 2 });
    expect(summary).not.toMatch(/^#|\n- |```|\*\*|\]\(/);
    const prose = documentSentences(SOLAR_MARKDOWN).map((s) => s.text.replace(/\.?$/, '.'));
    expect(splitSentences(summary).every((s) => prose.includes(s))).toBe(true);
  });

  it('returns a short text as it is, and nothing for empty input', () => {
    expect(summarize('  Solar power is growing. Panels are cheap.  ')).toBe('Solar power is growing. Panels are cheap.');
    expect(summarize('')).toBe('');
    expect(summarize('   \n\n ')).toBe('');
  });

  it('is deterministic', () => {
    expect(summarize(SOLAR, { maxSentences: 2 })).toBe(summarize(SOLAR, { maxSentences: 2 }));
  });
});

describe('makeTitle', () => {
  it('gives a different title per style, each within the length limit', () => {
    const titles = TITLE_STYLES.map((style) => makeTitle(SOLAR, style));
    expect(new Set(titles).size).toBe(TITLE_STYLES.length);
    for (const t of titles) {
      expect(t.length).toBeGreaterThan(0);
      expect(t.length).toBeLessThanOrEqual(MAX_TITLE_CHARS);
      expect(t.toLowerCase()).toContain('solar');
    }
  });

  it('styles each type as described', () => {
    expect(makeTitle(SOLAR, 'blog')).toMatch(/Solar Power/);
    expect(makeTitle(SOLAR, 'news')).toBe('Solar power is the conversion of sunlight into electricity');
    expect(makeTitle(SOLAR, 'academic')).toMatch(
      /^(A Study|An Analysis|An Examination) of Solar Power|: (A Study|An Analysis|An Examination) of /,
    );
    expect(makeTitle(SOLAR, 'catchy')).toMatch(/\?$/);
    expect(makeTitle(SOLAR_MARKDOWN, 'catchy')).toMatch(/^2 Things to Know About /);
  });

  it('is deterministic and copes with empty text', () => {
    expect(makeTitle(SOLAR, 'catchy')).toBe(makeTitle(SOLAR, 'catchy'));
    expect(makeTitle('', 'blog')).toBe('Untitled');
    expect(makeTitle('', 'news')).toBe('Untitled');
  });

  it('makes a headline of key phrases, not a cut sentence, when the key sentence is too long', () => {
    const long = `${'Municipal utilities across the northern provinces are replacing ageing coal plants with solar farms, battery parks and demand response programmes. '.repeat(2)}`;
    const news = makeTitle(long, 'news');
    expect(news.length).toBeLessThanOrEqual(MAX_TITLE_CHARS);
    expect(long.startsWith(news)).toBe(false);
    expect(news).toMatch(/^[A-Z]/);
    expect(news.toLowerCase()).toMatch(/programmes|utilities|coal plants|solar farms/);
  });

  it('uses a short key sentence whole as a news headline, without its full stop', () => {
    expect(makeTitle('Solar panels cut energy bills. Everyone loves cheaper energy.', 'news')).toBe('Solar panels cut energy bills');
  });

  it('gives every style a title-shaped phrase for every fixture text', () => {
    const stop = new Set(['of', 'and', 'the', 'a', 'an', 'to', 'in', 'for', 'with', 'on', 'at', 'by', 'or', 'is', 'are']);
    for (const text of FIXTURES) {
      for (const style of TITLE_STYLES) {
        const title = makeTitle(text, style);
        const label = `${style}: ${title}`;
        const ws = title.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) ?? [];
        expect(ws.length, label).toBeGreaterThan(0);
        expect(ws.length, label).toBeLessThanOrEqual(MAX_TITLE_WORDS);
        expect(title.length, label).toBeLessThanOrEqual(MAX_TITLE_CHARS);
        expect(stop.has(ws[ws.length - 1]!.toLowerCase()), label).toBe(false);
        expect(title, label).not.toMatch(/[\s,;:.—–\-(/&]$/);
        expect(title, label).toMatch(/^\P{Ll}/u);
        if (style !== 'news') {
          // Title Case: every word but the minor ones starts with a capital.
          const lower = ws
            .slice(1)
            .filter((w) => /^\p{Ll}/u.test(w) && !/^(a|an|the|and|but|or|nor|for|so|yet|as|at|by|in|of|off|on|per|to|up|via|vs)$/.test(w));
          expect(lower, label).toEqual([]);
        }
      }
    }
  });

  it('titles the README example from its key phrases', () => {
    const text = 'Solar panels cut energy bills. Everyone loves cheaper energy.';
    for (const style of ['blog', 'academic', 'catchy'] as const) expect(makeTitle(text, style)).toMatch(/Cheaper Energy/);
  });
});

describe('prompt parsing', () => {
  it('separates the instruction from the material', () => {
    expect(splitInstruction('Write an article from this outline:\n- Costs\n- Benefits')).toEqual({
      instruction: 'Write an article from this outline:',
      material: '- Costs\n- Benefits',
    });
    expect(splitInstruction('Summarize: solar is cheap.')).toEqual({ instruction: 'Summarize:', material: 'solar is cheap.' });
    expect(splitInstruction('Solar panels are cheap.\nThey last long.')).toEqual({
      instruction: '',
      material: 'Solar panels are cheap.\nThey last long.',
    });
  });

  it('tells outlines, writing and continuation apart', () => {
    expect(detectIntent('Outline an article about solar power')).toBe('outline');
    expect(detectIntent('Write an outline for a talk')).toBe('outline');
    expect(detectIntent('Write an article from this outline:')).toBe('write');
    expect(detectIntent('Continue writing the article')).toBe('continue');
    expect(detectIntent('Expand this into an essay:')).toBe('write');
  });

  it('finds the topic of a request', () => {
    expect(topicOf('Outline an article about solar power')).toBe('solar power');
    expect(topicOf('Write a blog post on the benefits of remote work in 300 words')).toBe('benefits of remote work');
    expect(topicOf('Write an article from this outline:')).toBeUndefined();
  });
});

describe('draftFromPrompt', () => {
  it('outlines a topic as a heading and a numbered list about it', () => {
    const { text, intent, truncated } = draftFromPrompt('Outline an article about solar power');
    expect(intent).toBe('outline');
    expect(truncated).toBe(false);
    expect(text).toMatch(/^# Solar Power/);
    expect(text).toMatch(/\n1\. .*\n2\. /);
    expect(text.match(/solar power/gi)?.length).toBeGreaterThanOrEqual(4);
  });

  it('writes an article that develops each point of an outline', () => {
    const outline = ['Why solar panels got cheaper', 'How battery storage smooths supply', 'What grid operators must change'];
    const prompt = `Write an article from this outline:\n${outline.map((p) => `- ${p}`).join('\n')}\n\nSolar panels are now cheaper than coal in most markets.`;
    const { text, intent } = draftFromPrompt(prompt);
    expect(intent).toBe('write');
    expect(text.startsWith('# ')).toBe(true);
    for (const point of outline) expect(text.toLowerCase()).toContain(point.toLowerCase());
    expect(text).toContain('Solar panels are now cheaper than coal in most markets.');
    expect(text.match(/^## /gm)?.length).toBeGreaterThanOrEqual(outline.length);
  });

  it('keeps the sentences of prose material when expanding it', () => {
    const material =
      'Remote work changes how teams communicate. Written updates replace hallway conversations. Managers need to measure output rather than hours.';
    const { text } = draftFromPrompt(`Expand this into an essay:\n${material}`);
    for (const sentence of splitSentences(material)) expect(text).toContain(sentence);
    expect(text.length).toBeGreaterThan(material.length);
  });

  it('continues from the key phrases of the last paragraph', () => {
    const doc =
      '# Solar at home\n\nSolar panels on rooftops let households generate their own electricity.\n\nBattery storage lets households keep surplus electricity for the evening.';
    const { text, intent } = draftFromPrompt(`Continue the article:\n\n${doc}`);
    expect(intent).toBe('continue');
    expect(text).toMatch(/^## .*Battery Storage/);
    expect(text.toLowerCase()).toContain('surplus electricity');
    expect(text).not.toContain('# Solar at home');
  });

  it('is deterministic for the same prompt and seed', () => {
    const prompt = 'Write a blog post about remote work';
    expect(draftFromPrompt(prompt)).toEqual(draftFromPrompt(prompt));
    expect(draftFromPrompt(prompt, { seed: 'x' })).toEqual(draftFromPrompt(prompt, { seed: 'x' }));
  });

  it('respects maxTokens approximately and says it truncated', () => {
    const full = draftFromPrompt('Write a blog post about remote work');
    const short = draftFromPrompt('Write a blog post about remote work', { maxTokens: 30 });
    expect(short.truncated).toBe(true);
    expect(short.text.length).toBeLessThanOrEqual(30 * 4);
    expect(full.text.startsWith(short.text)).toBe(true);
  });
});
