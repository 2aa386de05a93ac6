// Scores stdin line by line with the npm vader-sentiment package (the
// JavaScript reference), one TSV line per text: compound, pos, neu, neg.
//   usage: node vader_js.js PATH/TO/vader-sentiment < texts
// With --bench N it instead scores the texts N times and prints texts/s
// (overall and of the best round).
'use strict';
const path = require('path');
const fs = require('fs');
const pkg = process.argv[2];
const vader = require(path.resolve(pkg, 'build/vaderSentiment.bundle.js')).SentimentIntensityAnalyzer;
const lines = fs.readFileSync(0, 'utf8').split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
if (process.argv[3] === '--bench') {
  const rounds = Number(process.argv[4] || 1);
  let sink = 0;
  let best = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    const r0 = process.hrtime.bigint();
    for (const l of lines) sink += vader.polarity_scores(l).compound;
    best = Math.max(best, lines.length / (Number(process.hrtime.bigint() - r0) / 1e9));
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({texts: lines.length * rounds, seconds: s, per_s: (lines.length * rounds) / s,
                              best_round_per_s: best, sink}));
} else {
  const out = [];
  for (const l of lines) {
    const r = vader.polarity_scores(l);
    out.push(`${r.compound}\t${r.pos}\t${r.neu}\t${r.neg}`);
  }
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
}
