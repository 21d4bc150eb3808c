/**
 * Copy-to-clipboard controls: ids, secrets, keys and portal links are all copyable (users paste them into code and configs).
 * Falls back to selecting the text where the Clipboard API is refused.
 */
import { useState } from 'react';

async function copyText(value: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(value);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = value;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

/** A button that copies `value` and says so. */
export function CopyButton({ value, label = 'Copy', className }: { value: string; label?: string; className?: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <button
      type="button"
      className={className ?? 'button button-small'}
      onClick={async () => {
        setCopied(await copyText(value));
        window.setTimeout(() => setCopied(null), 2000);
      }}
    >
      <span aria-live="polite">{copied === true ? 'Copied' : copied === false ? 'Copy failed' : label}</span>
    </button>
  );
}

/** An id in monospace with a small copy button. */
export function CopyableId({ id, label }: { id: string; label?: string }) {
  return (
    <span className="copyable-id">
      <code>{id}</code>
      <CopyButton value={id} label="Copy" className="button button-tiny" />
      {label && <span className="visually-hidden">{label}</span>}
    </span>
  );
}
