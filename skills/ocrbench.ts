import { ANSWER_RULE, clip, compose, okText, readText, taskText, unavailable, zoomIn } from './evidence.ts';
import { defineRouter } from './router.ts';
import type { SkillImplementation } from './types.ts';

/** OCRBench pack: a router over five text-reading solvers. */
export const ocrbenchRouter = defineRouter({
  id: 'ocrbench-router',
  name: 'OCRBench_Router',
  description:
    'text in images: reading words, documents, receipts, scene text, formulas; picks a text specialist',
  solvers: [
    'Text_Recognition',
    'Key_Information_Extraction',
    'Scene_Text_QA',
    'Document_Chart_QA',
    'Formula_Recognition',
  ],
  fallback: 'Scene_Text_QA',
  rules: [
    {
      solver: 'Formula_Recognition',
      pattern: /\b(latex|formula|equation|expression)\b/i,
      why: 'asks for a formula',
    },
    {
      solver: 'Text_Recognition',
      pattern:
        /\b(what is written|what does (?:the|this) (?:image|text) say|recogni[sz]e the text|read the text|transcribe|text in the image)\b/i,
      why: 'asks to read the text',
    },
    {
      solver: 'Key_Information_Extraction',
      pattern: /\b(receipt|invoice|total|amount|date|address|phone|company|name of the|price)\b/i,
      why: 'asks for a field of a form or receipt',
    },
    {
      solver: 'Document_Chart_QA',
      pattern: /\b(document|page|table|chart|report|according to)\b/i,
      why: 'asks about a document or chart',
    },
    {
      solver: 'Scene_Text_QA',
      pattern: /\b(sign|street|shop|store|brand|poster|logo|board)\b/i,
      why: 'text in a scene',
    },
  ],
});

/** Text_Recognition: OCR, then the expert transcribes the text exactly (OCR as a hint). */
export const textRecognition: SkillImplementation = {
  id: 'text-recognition',
  name: 'Text_Recognition',
  level: 2,
  description: 'reads the words in an image exactly as written',
  services: [{ role: 'ocr' }],
  async run(ctx) {
    const ocr = await readText(ctx);
    const hint = okText(ocr);
    const answer = await ctx.ask({
      system:
        'Transcribe the text in the image exactly: same spelling, case and punctuation, no comments. ' +
        `An OCR reading is given as a hint; correct it where the image disagrees. ${ANSWER_RULE} X is the text.`,
      text: `${hint ? `OCR reading: ${clip(hint, 600)}\n\n` : ''}${taskText(ctx)}`,
      note: 'transcribe',
    });
    return {
      text: compose({
        header: '[Text_Recognition] OCR then transcription.',
        notes: ocr && !ocr.ok ? [unavailable('ocr', ocr)] : [],
        body: answer.text,
      }),
    };
  },
};

/** Scene_Text_QA: zoom on the text region, OCR of the zoomed crop, then an answer from both views. */
export const sceneTextQa: SkillImplementation = {
  id: 'scene-text-qa',
  name: 'Scene_Text_QA',
  level: 2,
  description: 'questions about text in natural scenes (signs, products, posters)',
  services: [{ role: 'zoom' }, { role: 'ocr' }],
  async run(ctx) {
    const zoomed = await zoomIn(ctx, 0, 'zoom on the text region');
    const notes: string[] = [];
    if (!zoomed.view && zoomed.reason) notes.push(zoomed.reason);
    const ocr = zoomed.view
      ? await ctx.aux('ocr', {
          image: { bytes: zoomed.view.view.bytes, label: 'zoomed text region' },
          prompt: 'Read all text in the image. Reply with the text only.',
          note: 'ocr of the zoomed region',
        })
      : await readText(ctx);
    if (ocr && !ocr.ok) notes.push(unavailable('ocr', ocr));
    const images = await ctx.expertImages();
    if (zoomed.view) images.push(zoomed.view.url);
    const read = okText(ocr);
    const answer = await ctx.ask({
      system:
        'Answer a question about text that appears in a scene. The last image may be an enlarged view of ' +
        `the text region; an OCR reading of it is given. Quote the text as written. ${ANSWER_RULE}`,
      text: `${read ? `OCR reading: ${clip(read, 600)}\n\n` : ''}${taskText(ctx)}`,
      images,
      note: 'answer from scene and text',
    });
    return {
      text: compose({ header: '[Scene_Text_QA] zoomed on the text and read it.', notes, body: answer.text }),
    };
  },
};

/** Formula_Recognition: OCR as a hint, then a LaTeX transcription by the expert. */
export const formulaRecognition: SkillImplementation = {
  id: 'formula-recognition',
  name: 'Formula_Recognition',
  level: 2,
  description: 'printed or handwritten formulas to LaTeX',
  services: [{ role: 'ocr' }],
  async run(ctx) {
    const ocr = await readText(ctx, 0, 'ocr of the formula');
    const hint = okText(ocr);
    const answer = await ctx.ask({
      system:
        'Write the formula in the image in LaTeX: superscripts with ^, subscripts with _, fractions with ' +
        '\\frac, no surrounding $ signs and no explanation. ' +
        `${ANSWER_RULE} X is the LaTeX.`,
      text: `${hint ? `OCR reading (may miss superscripts): ${clip(hint, 400)}\n\n` : ''}${taskText(ctx)}`,
      note: 'transcribe to LaTeX',
    });
    return {
      text: compose({
        header: '[Formula_Recognition] transcribed to LaTeX.',
        notes: ocr && !ocr.ok ? [unavailable('ocr', ocr)] : [],
        body: answer.text,
      }),
    };
  },
};
