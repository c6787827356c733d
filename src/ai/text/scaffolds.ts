/**
 * Section scaffolds for a drafting request that names a topic but brings no material. They are
 * structural: each says what a section is for, never what is true about the topic, because the
 * local provider has no knowledge to draw on. `{t}` is the topic, `{T}` the topic in Title Case,
 * `{k}` the kind of document ("article", "essay").
 */
export type ScaffoldStep = { heading: string; body: string; point: string };
export type Scaffold = readonly ScaffoldStep[];

export const SCAFFOLDS: readonly [Scaffold, ...Scaffold[]] = [
  [
    {
      heading: 'What {t} is',
      body: 'This section sets out what {t} means and the terms the rest of the {k} relies on.',
      point: 'definitions and the key terms',
    },
    {
      heading: 'Why {t} matters',
      body: 'Here the {k} explains why {t} deserves attention and who it affects.',
      point: 'who {t} affects and why it deserves attention',
    },
    {
      heading: 'How {t} works in practice',
      body: 'This part walks through how {t} works day to day, one step at a time.',
      point: 'a step-by-step look at {t} day to day',
    },
    {
      heading: 'Challenges and open questions',
      body: 'No approach is free of costs; this section lists the trade-offs and open questions around {t}.',
      point: 'trade-offs, costs and what is still unresolved',
    },
    {
      heading: 'What comes next',
      body: 'The last section considers where {t} is heading and what a reader can do next.',
      point: 'where {t} is heading and what a reader can do next',
    },
  ],
  [
    {
      heading: 'Background',
      body: 'This section gives the background a reader needs before looking at {t} in detail.',
      point: 'the context a reader needs first',
    },
    {
      heading: 'Key ideas behind {t}',
      body: 'Here the {k} separates the main ideas behind {t} so each can be looked at on its own.',
      point: 'the main ideas, taken one at a time',
    },
    {
      heading: '{T} in practice',
      body: 'This part describes how {t} is applied and what that asks of the people involved.',
      point: 'how {t} is applied and what it asks of the people involved',
    },
    {
      heading: 'Trade-offs to weigh',
      body: 'Every choice around {t} has costs as well as benefits; this section sets them side by side.',
      point: 'costs and benefits side by side',
    },
    {
      heading: 'Looking ahead',
      body: 'The {k} closes by asking what would change the picture of {t} and what to watch for.',
      point: 'what would change the picture and what to watch for',
    },
  ],
];
