import type { Tool } from '../tool.js';
import { createFileEditTool } from './file-edit.js';
import { createFileListTool } from './file-list.js';
import { createFileReadManyTool } from './file-read-many.js';
import { createFileReadTool } from './file-read.js';
import { createFileSearchTool, type FileSearchOptions } from './file-search.js';
import { createFileWriteTool } from './file-write.js';
export type { FileSearchOptions } from './file-search.js';
export { closeIoPool } from './io-pool.js';

/** All file tools: file_read, file_write, file_list, file_edit, file_read_many, file_search. */
export function createFsTools(options: { search?: FileSearchOptions } = {}): Tool[] {
  return [
    createFileReadTool(),
    createFileWriteTool(),
    createFileListTool(),
    createFileEditTool(),
    createFileReadManyTool(),
    createFileSearchTool(options.search),
  ];
}
