import type { ServerResponse } from 'node:http';

/** Answers with an S3 error: the status and the XML body S3 sends, which the AWS SDK parses. */
export function sendS3Error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}
