import { existsSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { labelled, registerResidueKind, residueFields } from '../core/residue.js';

declare module '../core/residue.js' {
  interface ResidueShapes {
    /** Remove a faultline-owned file (or, with `recursive`, directory). */
    file: { path: string; recursive?: boolean };
  }
}

/** Only names faultline gives its own files and directories: a tampered journal must not delete others'. */
export function isFaultlineName(path: string): boolean {
  const name = basename(path);
  return name.startsWith('.faultline-') || name.startsWith('faultline-');
}

registerResidueKind({
  kind: 'file',
  validate: (record) =>
    residueFields.first(
      residueFields.string(record, 'path'),
      record.recursive === undefined || typeof record.recursive === 'boolean'
        ? undefined
        : `recursive: expected a boolean, got ${JSON.stringify(record.recursive)}`,
    ),
  describe: (residue) => `${residue.path}${labelled(residue.label)}`,
  undo(residue, { dryRun }) {
    const { path } = residue;
    if (!isFaultlineName(path)) {
      return { done: false, line: `refused to remove ${path}: not a faultline-owned name` };
    }
    if (!existsSync(path)) return { done: true, gone: true, line: `${path} already gone` };
    if (dryRun) return { done: true, line: `would remove ${path}` };
    rmSync(path, { force: true, recursive: residue.recursive === true });
    return { done: true, line: `removed ${path}` };
  },
});
