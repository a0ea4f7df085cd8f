"""Words for states staff mode shows (device states, link states, kinds), as msgids."""

from __future__ import annotations

from kiosk.i18n import N_

DEVICE_STATE = {
    "ready": N_("siap"),
    "unknown": N_("tidak diketahui"),
    "connecting": N_("menghubungkan"),
    "offline": N_("tidak terhubung"),
    "paper_out": N_("kertas habis"),
    "paper_low": N_("kertas hampir habis"),
    "cover_open": N_("tutup printer terbuka"),
    "error": N_("galat"),
    "none": N_("tidak ada"),
}

LINK_STATE = {
    "online": N_("Daring (Online)"),
    "offline": N_("Luring (Offline)"),
    "forced_offline": N_("Dipaksa luring (Offline)"),
    "unknown": N_("Belum diketahui"),
    "none": N_("Tanpa server (hanya luring)"),
}

#: What a transaction was, on the staff screen's follow-up list.
KIND_LABEL = {
    "checkout": N_("Peminjaman"),
    "checkin": N_("Pengembalian"),
    "renew": N_("Perpanjangan"),
    "event_register": N_("Pendaftaran acara"),
    "door_signin": N_("Presensi pintu"),
}

LABEL_MSGIDS = (*DEVICE_STATE.values(), *LINK_STATE.values(), *KIND_LABEL.values())
