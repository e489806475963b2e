import { describe, expect, it } from 'vitest';
import { AaosError, ErrorCode } from '../../src/errors/index.js';
import { formatManifestError, parseManifest } from '../../src/manifest/index.js';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('formatManifestError', () => {
  it('gives one file:line:col: field: message line per issue', () => {
    const err = thrown(() =>
      parseManifest('name: a\nmodel: m\ncapabilities:\n  - "tool: x"\n  - "file_raed: /x"\nmemroy: {}\n', {
        file: 'manifests/x.yaml',
      }),
    );
    expect(formatManifestError(err)).toEqual([
      "manifests/x.yaml:5:5: capabilities[1]: unknown capability kind 'file_raed' (did you mean 'file_read'?)",
      "manifests/x.yaml:6:1: memroy: unknown field 'memroy' (did you mean 'memory'?)",
    ]);
  });

  it('falls back to the message for errors without located issues', () => {
    expect(
      formatManifestError(new AaosError(ErrorCode.MANIFEST_NOT_FOUND, 'x.yaml: manifest not found: /abs/x.yaml')),
    ).toEqual(['x.yaml: manifest not found: /abs/x.yaml']);
    expect(formatManifestError(new Error('boom'))).toEqual(['boom']);
    expect(formatManifestError('plain')).toEqual(['plain']);
  });
});
