// src/protocol/file-attr.ts
// IPMSG_FILE_* file types, attribute options and extended attribute ids (§1.1).

export const IPMSG_FILE_REGULAR = 0x01;
export const IPMSG_FILE_DIR = 0x02;
export const IPMSG_FILE_RETPARENT = 0x03;
export const IPMSG_FILE_SYMLINK = 0x04;
export const IPMSG_FILE_CDEV = 0x05;
export const IPMSG_FILE_BDEV = 0x06;
export const IPMSG_FILE_FIFO = 0x07;
export const IPMSG_FILE_RESFORK = 0x10;
export const IPMSG_FILE_CLIPBOARD = 0x20;

export const IPMSG_FILE_RONLYOPT = 0x00000100;
export const IPMSG_FILE_HIDDENOPT = 0x00001000;
export const IPMSG_FILE_EXHIDDENOPT = 0x00002000;
export const IPMSG_FILE_ARCHIVEOPT = 0x00004000;
export const IPMSG_FILE_SYSTEMOPT = 0x00008000;

export const IPMSG_FILE_UID = 0x01;
export const IPMSG_FILE_USERNAME = 0x02;
export const IPMSG_FILE_GID = 0x03;
export const IPMSG_FILE_GROUPNAME = 0x04;
export const IPMSG_FILE_CLIPBOARDPOS = 0x08;
export const IPMSG_FILE_PERM = 0x10;
export const IPMSG_FILE_MAJORNO = 0x11;
export const IPMSG_FILE_MINORNO = 0x12;
export const IPMSG_FILE_CTIME = 0x13;
export const IPMSG_FILE_MTIME = 0x14;
export const IPMSG_FILE_ATIME = 0x15;
export const IPMSG_FILE_CREATETIME = 0x16;
export const IPMSG_FILE_CREATOR = 0x20;
export const IPMSG_FILE_FILETYPE = 0x21;
export const IPMSG_FILE_FINDERINFO = 0x22;
export const IPMSG_FILE_ACL = 0x30;
export const IPMSG_FILE_ALIASFNAME = 0x40;

/** The IPMSG_FILE_* type in the low 8 bits of a fileattr. */
export function fileType(attr: number): number {
  return attr & 0xff;
}
