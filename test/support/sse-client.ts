// A Server-Sent Events reader for e2e tests (GET /api/experiments/:id/events): collects frames as
// they arrive and says whether the server ended the stream or it broke.

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

/** One SSE connection: frames as they arrive, and whether the server ended or broke it. */
export class SseClient {
  readonly frames: SseFrame[] = [];
  readonly done: Promise<'ended' | 'broken'>;

  constructor(url: string, lastEventId: string) {
    this.done = this.read(url, lastEventId);
  }

  private async read(url: string, lastEventId: string): Promise<'ended' | 'broken'> {
    try {
      const response = await fetch(url, { headers: { accept: 'text/event-stream', 'last-event-id': lastEventId } });
      if (!response.ok || !response.body) throw new Error(`SSE ${url} -> HTTP ${response.status}: ${await response.text()}`);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: SseFrame = { event: 'message', data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) frame.id = line.slice(4);
            else if (line.startsWith('event: ')) frame.event = line.slice(7);
            else if (line.startsWith('data: ')) frame.data += line.slice(6);
          }
          if (!block.startsWith(':')) this.frames.push(frame);
        }
      }
      return 'ended';
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('SSE ')) throw err;
      return 'broken';
    }
  }
}
