// A tiny hand-assembled PVH guest for testing the QEMU driver without the real kernel: an ELF32 whose PVH note
// points at 32-bit code that prints `text` on COM1 and then either writes `exit` to isa-debug-exit or halts forever.
export function pvhGuest(text: string, exit: number | null): Buffer {
  const LOAD = 0x100000;
  const code: number[] = [0xfa]; // cli
  for (const ch of Buffer.from(text, 'latin1')) code.push(0x66, 0xba, 0xf8, 0x03, 0xb0, ch, 0xee); // mov dx,0x3f8; mov al,ch; out dx,al
  if (exit !== null) code.push(0x66, 0xba, 0xf4, 0x00, 0xb8, exit & 0xff, 0, 0, 0, 0xef); // mov dx,0xf4; mov eax,exit; out dx,eax
  code.push(0xf4, 0xeb, 0xfd); // hlt; jmp hlt
  const ehsize = 52,
    phsize = 32,
    noteOff = ehsize + 2 * phsize,
    noteSize = 12 + 4 + 4,
    codeOff = noteOff + noteSize;
  const buf = Buffer.alloc(codeOff + code.length);
  buf.write('\x7fELF', 0, 'latin1');
  buf[4] = 1;
  buf[5] = 1;
  buf[6] = 1; // ELFCLASS32, little endian, version
  buf.writeUInt16LE(2, 16); // ET_EXEC
  buf.writeUInt16LE(3, 18); // EM_386
  buf.writeUInt32LE(1, 20);
  buf.writeUInt32LE(LOAD + codeOff, 24); // e_entry
  buf.writeUInt32LE(ehsize, 28); // e_phoff
  buf.writeUInt16LE(ehsize, 40);
  buf.writeUInt16LE(phsize, 42);
  buf.writeUInt16LE(2, 44); // ehsize, phentsize, phnum
  buf.writeUInt16LE(40, 46); // shentsize (no sections)
  const ph = (at: number, type: number, off: number, addr: number, size: number, flags: number, align: number) => {
    buf.writeUInt32LE(type, at);
    buf.writeUInt32LE(off, at + 4);
    buf.writeUInt32LE(addr, at + 8);
    buf.writeUInt32LE(addr, at + 12);
    buf.writeUInt32LE(size, at + 16);
    buf.writeUInt32LE(size, at + 20);
    buf.writeUInt32LE(flags, at + 24);
    buf.writeUInt32LE(align, at + 28);
  };
  ph(ehsize, 1, 0, LOAD, buf.length, 5, 0x1000); // PT_LOAD R+X
  ph(ehsize + phsize, 4, noteOff, LOAD + noteOff, noteSize, 4, 4); // PT_NOTE
  buf.writeUInt32LE(4, noteOff);
  buf.writeUInt32LE(4, noteOff + 4);
  buf.writeUInt32LE(18, noteOff + 8); // XEN_ELFNOTE_PHYS32_ENTRY
  buf.write('Xen\0', noteOff + 12, 'latin1');
  buf.writeUInt32LE(LOAD + codeOff, noteOff + 16);
  Buffer.from(code).copy(buf, codeOff);
  return buf;
}
