import { describe, expect, it } from 'vitest';
import type { Capability } from '../../src/capability/capability.js';
import { covers, permits } from '../../src/capability/capability-match.js';

const fileRead = (glob: string): Capability => ({ kind: 'file_read', glob });
const fileWrite = (glob: string): Capability => ({ kind: 'file_write', glob });
const network = (...hosts: string[]): Capability => ({ kind: 'network', hosts });
const tool = (name: string): Capability => ({ kind: 'tool', name });
const spawn = (...agents: string[]): Capability => ({ kind: 'spawn_child', agents });
const send = (...targets: string[]): Capability => ({ kind: 'message_send', targets });

describe('permits', () => {
  it('matches file kinds by glob and never across kinds', () => {
    expect(permits(fileRead('/data/*'), { kind: 'file_read', path: '/data/a.txt' })).toBe(true);
    expect(permits(fileRead('/data/*'), { kind: 'file_write', path: '/data/a.txt' })).toBe(false);
    expect(permits(fileWrite('/data/*'), { kind: 'file_read', path: '/data/a.txt' })).toBe(false);
    expect(permits(fileRead('/data/*'), { kind: 'file_read', path: '/data/../etc/passwd' })).toBe(false);
    expect(permits(fileRead('/data/*'), { kind: 'file_read', path: '/data-foo/x' })).toBe(false);
  });

  it('matches network hosts case-insensitively, with *', () => {
    expect(permits(network('Example.com'), { kind: 'network', host: 'example.COM' })).toBe(true);
    expect(permits(network('example.com'), { kind: 'network', host: 'evil.com' })).toBe(false);
    expect(permits(network('example.com'), { kind: 'network', host: 'sub.example.com' })).toBe(false);
    expect(permits(network('*'), { kind: 'network', host: 'anything.org' })).toBe(true);
  });

  it('matches tools by name or *', () => {
    expect(permits(tool('file_read'), { kind: 'tool', name: 'file_read' })).toBe(true);
    expect(permits(tool('file_read'), { kind: 'tool', name: 'file_write' })).toBe(false);
    expect(permits(tool('*'), { kind: 'tool', name: 'no_such_tool' })).toBe(true);
    expect(permits(fileRead('/*'), { kind: 'tool', name: 'file_read' })).toBe(false);
  });

  it('matches spawn_child and message_send lists', () => {
    expect(permits(spawn('worker'), { kind: 'spawn_child', name: 'worker' })).toBe(true);
    expect(permits(spawn('worker'), { kind: 'spawn_child', name: 'other' })).toBe(false);
    expect(permits(spawn('*'), { kind: 'spawn_child', name: 'other' })).toBe(true);
    expect(permits(send('peer'), { kind: 'message_send', targetId: 'id-1', targetName: 'peer' })).toBe(true);
    expect(permits(send('id-1'), { kind: 'message_send', targetId: 'id-1', targetName: 'peer' })).toBe(true);
    expect(permits(send('peer'), { kind: 'message_send', targetId: 'id-2', targetName: 'stranger' })).toBe(false);
    expect(permits(send('*'), { kind: 'message_send', targetId: 'id-2', targetName: 'stranger' })).toBe(true);
  });
});

describe('covers (delegation)', () => {
  it('narrows file globs and never widens them', () => {
    expect(covers(fileRead('/src/*'), fileRead('/src/crates/*'))).toBe(true);
    expect(covers(fileRead('/src/*'), fileRead('/src/a.rs'))).toBe(true);
    expect(covers(fileRead('/src/crates/*'), fileRead('/src/*'))).toBe(false);
    expect(covers(fileRead('/src/*'), fileRead('/*'))).toBe(false);
    expect(covers(fileRead('/src/*'), fileWrite('/src/*'))).toBe(false);
    expect(covers(fileRead('/src/*'), fileRead('/src-other/*'))).toBe(false);
  });

  it('needs every child host, and a parent * for a child *', () => {
    expect(covers(network('a.com', 'b.com'), network('A.com'))).toBe(true);
    expect(covers(network('a.com'), network('a.com', 'b.com'))).toBe(false);
    expect(covers(network('a.com'), network('*'))).toBe(false);
    expect(covers(network('*'), network('*'))).toBe(true);
    expect(covers(network('*'), network('x.org'))).toBe(true);
  });

  it('handles tool, spawn_child and message_send', () => {
    expect(covers(tool('*'), tool('file_read'))).toBe(true);
    expect(covers(tool('*'), tool('*'))).toBe(true);
    expect(covers(tool('file_read'), tool('file_read'))).toBe(true);
    expect(covers(tool('file_read'), tool('*'))).toBe(false);
    expect(covers(tool('file_read'), tool('file_write'))).toBe(false);
    expect(covers(spawn('*'), spawn('x'))).toBe(true);
    expect(covers(spawn('x', 'y'), spawn('y'))).toBe(true);
    expect(covers(spawn('x'), spawn('x', 'z'))).toBe(false);
    expect(covers(spawn('x'), spawn('*'))).toBe(false);
    expect(covers(send('a'), send('a'))).toBe(true);
    expect(covers(send('a'), send('b'))).toBe(false);
    expect(covers(send('*'), send('b'))).toBe(true);
  });

  it('never crosses kinds', () => {
    expect(covers(tool('*'), network('a.com'))).toBe(false);
    expect(covers(network('*'), tool('x'))).toBe(false);
  });
});
