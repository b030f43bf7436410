#!/usr/bin/env node
// Generates synthetic clinical-style notes (one note a line, plain text) for the PHI
// benchmark: a mix of identifier-bearing sentences (names, facilities, dates, MRNs, phones,
// addresses) and ordinary clinical prose, drawn from a seeded PRNG so runs are reproducible.
// Usage: gen_clinical.js <megabytes> [seed] > notes.txt
'use strict';
const mb = Number(process.argv[2] || 50);
let seed = Number(process.argv[3] || 42) >>> 0;
function rnd() {  // xorshift32
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const num = (n) => String(Math.floor(rnd() * 10 ** n)).padStart(n, '0');
const first = ['Sarah', 'John', 'Maria', 'Robert', 'Emily', 'David', 'Linda', 'James', 'Ana', 'Kevin',
  'Patricia', 'Michael', 'Grace', 'Thomas', 'Olivia', 'Daniel', 'Sophia', 'William'];
const last = ['Smith', 'Johnson', 'Garcia', 'Brown', 'Davis', 'Martinez', 'Nguyen', 'Patel', 'Wilson',
  'Anderson', 'Thompson', 'Hernandez', 'Kowalski', 'Okafor', 'Schmidt', 'Rossi'];
const fac = ['UCLA Medical Center', "St. Mary's Hospital", 'Cleveland Clinic', 'Mercy General Hospital',
  'Lakeside Clinic', 'Johns Hopkins Hospital', 'Riverside Health Center', 'Mount Sinai'];
const city = ['Chicago', 'Houston', 'Phoenix', 'San Diego', 'Boston', 'Denver', 'Seattle', 'Atlanta'];
const month = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];
const street = ['Maple Street', 'Oak Avenue', 'Pine Road', 'Cedar Lane', 'Elm Drive', 'Lake Boulevard'];
const prose = [
  'Patient reports intermittent chest pain radiating to the left arm, worse with exertion.',
  'Continue metformin 1000 mg twice daily and lisinopril 20 mg daily; recheck HbA1c in 3 months.',
  'Lungs clear to auscultation bilaterally; no wheezes, rales or rhonchi.',
  'Echocardiogram showed an ejection fraction of 35% with mild mitral regurgitation.',
  'Positive Homans sign was not elicited; Wells score of 2 suggests moderate probability.',
  'Renal function stable with an eGFR of 48 mL/min/1.73m2 and potassium of 4.6 mmol/L.',
  'Discussed risks and benefits of anticoagulation, targeting an INR of 2.0-3.0.',
  'History of hypertension, hyperlipidemia and type 2 diabetes mellitus for 12 years.',
  'Plan: follow up in clinic in two weeks, sooner if symptoms worsen.',
  'No known drug allergies. Social history negative for tobacco; occasional alcohol use.',
];
const phi = [
  () => `Seen by Dr. ${pick(last)} at ${pick(fac)} on ${pick(month)} ${1 + Math.floor(rnd() * 28)}, ${2015 + Math.floor(rnd() * 10)}.`,
  () => `${pick(first)} ${pick(last)[0]}., a ${20 + Math.floor(rnd() * 60)}-year-old, MRN: ${pick(['CC-', 'MS-', ''])}${num(7)}.`,
  () => `Contact daughter ${pick(first)} at (${num(3)}) 555-${num(4)} or ${pick(first).toLowerCase()}.${pick(last).toLowerCase()}@example.com.`,
  () => `Lives at ${1 + Math.floor(rnd() * 9999)} ${pick(street)}, ${pick(city)}, IL ${num(5)}.`,
  () => `Admitted ${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}/${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}/20${num(2)}; insurance ID ${pick(['HP-', 'XY-'])}${num(6)}.`,
  () => `Patient ${pick(first)} ${pick(last)} transferred from ${pick(city)} for evaluation.`,
];
const target = mb * 1024 * 1024;
let written = 0;
const out = [];
while (written < target) {
  const n = 3 + Math.floor(rnd() * 6);
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(rnd() < 0.35 ? pick(phi)() : pick(prose));
  const line = parts.join(' ') + '\n';
  out.push(line);
  written += Buffer.byteLength(line);
  if (out.length >= 4096) { process.stdout.write(out.join('')); out.length = 0; }
}
process.stdout.write(out.join(''));
