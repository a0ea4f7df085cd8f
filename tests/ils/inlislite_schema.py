"""The INLISLite v3 tables the connector reads and writes, and a small library in them.

INLISLite publishes no SQL schema; the columns are those its Yii2 model classes
declare (``src/common/models/base/*.php`` in ``pizaini/inlislite``), only the ones
circulation touches, with the obvious keys. INLISLite runs on InnoDB.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

TABLES = [
    """CREATE TABLE `jenis_anggota` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `jenisanggota` varchar(255) NOT NULL,
  `MaxPinjamKoleksi` int(11) DEFAULT NULL,
  `MaxLoanDays` int(11) DEFAULT NULL,
  `DendaType` varchar(45) DEFAULT NULL,
  `DendaPerTenor` decimal(10,0) DEFAULT NULL,
  `DendaTenorJumlah` double DEFAULT NULL,
  `DendaTenorSatuan` varchar(45) DEFAULT NULL,
  `DendaTenorMultiply` int(11) DEFAULT NULL,
  `CountPerpanjang` int(11) DEFAULT NULL,
  `DayPerpanjang` int(11) DEFAULT NULL,
  `SuspendMember` tinyint(1) DEFAULT NULL,
  `SuspendType` varchar(45) DEFAULT NULL,
  `DaySuspend` int(11) DEFAULT NULL,
  `SuspendTenorJumlah` double DEFAULT NULL,
  `SuspendTenorSatuan` varchar(45) DEFAULT NULL,
  `SuspendTenorMultiply` int(11) DEFAULT NULL,
  `UpdateDate` datetime DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `members` (
  `ID` int(11) NOT NULL AUTO_INCREMENT,
  `MemberNo` varchar(50) NOT NULL,
  `Fullname` varchar(255) NOT NULL,
  `Email` varchar(255) DEFAULT NULL,
  `EndDate` date DEFAULT NULL,
  `JenisAnggota_id` int(11) DEFAULT NULL,
  `StatusAnggota_id` int(11) DEFAULT NULL,
  `CreateDate` datetime DEFAULT NULL,
  `UpdateDate` datetime DEFAULT NULL,
  PRIMARY KEY (`ID`),
  UNIQUE KEY `MemberNo` (`MemberNo`),
  KEY `UpdateDate` (`UpdateDate`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `catalogs` (
  `ID` int(11) NOT NULL AUTO_INCREMENT,
  `Title` text NOT NULL,
  `Author` varchar(255) DEFAULT NULL,
  `ISBN` varchar(255) DEFAULT NULL,
  `UpdateDate` datetime DEFAULT NULL,
  PRIMARY KEY (`ID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `collections` (
  `ID` bigint(20) NOT NULL AUTO_INCREMENT,
  `NomorBarcode` varchar(255) NOT NULL,
  `Catalog_id` int(11) DEFAULT NULL,
  `Status_id` int(11) DEFAULT NULL,
  `UpdateDate` datetime DEFAULT NULL,
  `BookingMemberID` varchar(50) DEFAULT NULL,
  `BookingExpiredDate` datetime DEFAULT NULL,
  PRIMARY KEY (`ID`),
  UNIQUE KEY `NomorBarcode` (`NomorBarcode`),
  KEY `UpdateDate` (`UpdateDate`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `collectionloans` (
  `ID` varchar(255) NOT NULL,
  `Member_id` int(11) NOT NULL,
  `CollectionCount` int(11) NOT NULL DEFAULT 0,
  `LocationLibrary_id` int(11) DEFAULT NULL,
  `CreateBy` int(11) DEFAULT NULL,
  `CreateDate` datetime DEFAULT NULL,
  `UpdateDate` datetime DEFAULT NULL,
  PRIMARY KEY (`ID`),
  KEY `Member_id` (`Member_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `collectionloanitems` (
  `ID` bigint(20) NOT NULL AUTO_INCREMENT,
  `CollectionLoan_id` varchar(255) NOT NULL,
  `Collection_id` bigint(20) NOT NULL,
  `member_id` int(11) NOT NULL,
  `LoanDate` datetime DEFAULT NULL,
  `DueDate` datetime DEFAULT NULL,
  `ActualReturn` datetime DEFAULT NULL,
  `LateDays` int(11) DEFAULT NULL,
  `LoanStatus` varchar(45) DEFAULT NULL,
  `CreateBy` int(11) DEFAULT NULL,
  `CreateDate` datetime DEFAULT NULL,
  `UpdateDate` datetime DEFAULT NULL,
  PRIMARY KEY (`ID`),
  KEY `CollectionLoan_id` (`CollectionLoan_id`),
  KEY `Collection_id` (`Collection_id`),
  KEY `member_id` (`member_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `pelanggaran` (
  `ID` bigint(20) NOT NULL AUTO_INCREMENT,
  `CollectionLoan_id` varchar(255) DEFAULT NULL,
  `CollectionLoanItem_id` bigint(20) DEFAULT NULL,
  `JenisPelanggaran_id` int(11) DEFAULT NULL,
  `JenisDenda_id` int(11) DEFAULT NULL,
  `JumlahDenda` decimal(10,0) DEFAULT NULL,
  `JumlahSuspend` int(11) DEFAULT NULL,
  `Member_id` int(11) DEFAULT NULL,
  `Collection_id` bigint(20) DEFAULT NULL,
  `Paid` tinyint(1) DEFAULT NULL,
  `CreateBy` int(11) DEFAULT NULL,
  `CreateDate` datetime DEFAULT NULL,
  `UpdateDate` datetime DEFAULT NULL,
  PRIMARY KEY (`ID`),
  KEY `CollectionLoanItem_id` (`CollectionLoanItem_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    # the guest book (Buku Tamu) and the master tables it refers to
    """CREATE TABLE `jenis_kelamin` (
  `ID` int(11) NOT NULL AUTO_INCREMENT,
  `Name` varchar(20) NOT NULL,
  PRIMARY KEY (`ID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `master_pendidikan` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `Nama` varchar(50) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `master_pekerjaan` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `Pekerjaan` varchar(50) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `tujuan_kunjungan` (
  `ID` int(11) NOT NULL AUTO_INCREMENT,
  `Code` varchar(100) NOT NULL,
  `TujuanKunjungan` varchar(255) NOT NULL,
  `Member` int(11) DEFAULT NULL,
  `NonMember` int(11) DEFAULT NULL,
  `Rombongan` int(11) DEFAULT NULL,
  PRIMARY KEY (`ID`),
  UNIQUE KEY `Code` (`Code`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `locations` (
  `ID` int(11) NOT NULL AUTO_INCREMENT,
  `LocationLibrary_id` int(11) DEFAULT NULL,
  `Name` varchar(255) NOT NULL,
  PRIMARY KEY (`ID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `memberguesses` (
  `ID` bigint(20) NOT NULL AUTO_INCREMENT,
  `NoAnggota` varchar(50) DEFAULT NULL,
  `Nama` varchar(100) NOT NULL,
  `Status_id` int(11) DEFAULT NULL,
  `MasaBerlaku_id` int(11) DEFAULT NULL,
  `Profesi_id` int(11) DEFAULT NULL,
  `PendidikanTerakhir_id` int(11) DEFAULT NULL,
  `JenisKelamin_id` int(11) DEFAULT NULL,
  `Alamat` varchar(255) DEFAULT NULL,
  `CreateBy` int(11) DEFAULT NULL,
  `CreateDate` datetime DEFAULT NULL,
  `CreateTerminal` varchar(100) DEFAULT NULL,
  `UpdateBy` int(11) DEFAULT NULL,
  `UpdateDate` datetime DEFAULT NULL,
  `UpdateTerminal` varchar(100) DEFAULT NULL,
  `Deskripsi` varchar(255) DEFAULT NULL,
  `LOCATIONLOANS_ID` int(11) DEFAULT NULL,
  `Location_Id` int(11) DEFAULT NULL,
  `TujuanKunjungan_Id` int(11) DEFAULT NULL,
  `Information` varchar(255) DEFAULT NULL,
  `NoPengunjung` varchar(50) DEFAULT NULL,
  PRIMARY KEY (`ID`),
  KEY `NoAnggota` (`NoAnggota`),
  KEY `CreateDate` (`CreateDate`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `groupguesses` (
  `ID` bigint(20) NOT NULL AUTO_INCREMENT,
  `NamaKetua` varchar(255) NOT NULL,
  `NomerTelponKetua` varchar(20) DEFAULT NULL,
  `AsalInstansi` varchar(255) NOT NULL,
  `AlamatInstansi` varchar(255) NOT NULL,
  `CountPersonel` int(11) DEFAULT NULL,
  `CountPNS` int(11) DEFAULT NULL,
  `CountPSwasta` int(11) DEFAULT NULL,
  `CountPeneliti` int(11) DEFAULT NULL,
  `CountGuru` int(11) DEFAULT NULL,
  `CountDosen` int(11) DEFAULT NULL,
  `CountPensiunan` int(11) DEFAULT NULL,
  `CountTNI` int(11) DEFAULT NULL,
  `CountWiraswasta` int(11) DEFAULT NULL,
  `CountPelajar` int(11) DEFAULT NULL,
  `CountMahasiswa` int(11) DEFAULT NULL,
  `CountLainnya` int(11) DEFAULT NULL,
  `CountSD` int(11) DEFAULT NULL,
  `CountSMP` int(11) DEFAULT NULL,
  `CountSMA` int(11) DEFAULT NULL,
  `CountD1` int(11) DEFAULT NULL,
  `CountD2` int(11) DEFAULT NULL,
  `CountD3` int(11) DEFAULT NULL,
  `CountS1` int(11) DEFAULT NULL,
  `CountS2` int(11) DEFAULT NULL,
  `CountS3` int(11) DEFAULT NULL,
  `CountLaki` int(11) DEFAULT NULL,
  `CountPerempuan` int(11) DEFAULT NULL,
  `TujuanKunjungan_ID` int(11) DEFAULT NULL,
  `CreateBy` int(11) DEFAULT NULL,
  `CreateDate` datetime DEFAULT NULL,
  `CreateTerminal` varchar(100) DEFAULT NULL,
  `UpdateBy` int(11) DEFAULT NULL,
  `UpdateDate` datetime DEFAULT NULL,
  `UpdateTerminal` varchar(100) DEFAULT NULL,
  `LocationLoans_ID` int(11) DEFAULT NULL,
  `Location_ID` int(11) DEFAULT NULL,
  `TeleponInstansi` varchar(20) DEFAULT NULL,
  `EmailInstansi` varchar(255) DEFAULT NULL,
  `Information` varchar(255) DEFAULT NULL,
  `NoPengunjung` varchar(50) DEFAULT NULL,
  PRIMARY KEY (`ID`),
  KEY `CreateDate` (`CreateDate`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `holidays` (
  `ID` int(11) NOT NULL AUTO_INCREMENT,
  `Dates` datetime NOT NULL,
  `Names` varchar(255) NOT NULL,
  `CreateDate` datetime DEFAULT NULL,
  `UpdateDate` datetime DEFAULT NULL,
  PRIMARY KEY (`ID`),
  UNIQUE KEY `Dates` (`Dates`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE `settingparameters` (
  `ID` int(11) NOT NULL AUTO_INCREMENT,
  `Name` varchar(255) NOT NULL,
  `Value` text DEFAULT NULL,
  PRIMARY KEY (`ID`),
  UNIQUE KEY `Name` (`Name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
]

FINE_PER_DAY = 1000
SUSPEND_PER_DAY = 1
LOAN_DAYS = 7
#: a holiday (``holidays`` row) this many days before and after the seed's today
HOLIDAY_OFFSETS = (-4, 10)


def seed_inlislite(engine: Engine, members: int = 4, items: int = 6) -> None:
    """Member type 1 "Umum" (7 days, 3 loans, 1 renewal; Rp1000 a late day and one
    suspended day per late day, "Berkelipatan" per 1 hari), members A0001.. (A0003
    blocked: status 2), items C00001.. of one catalog each, all available
    (Status_id 1). Sundays are holidays, Saturdays not, plus ``HOLIDAY_OFFSETS``."""
    today = date.today()
    now = datetime.now().replace(microsecond=0) - timedelta(days=1)
    with engine.begin() as conn:
        for ddl in TABLES:
            conn.execute(text(ddl))
        conn.execute(
            text(
                "INSERT INTO jenis_anggota (id, jenisanggota, MaxPinjamKoleksi, MaxLoanDays, "
                "DendaType, DendaPerTenor, DendaTenorJumlah, DendaTenorSatuan, "
                "DendaTenorMultiply, CountPerpanjang, DayPerpanjang, SuspendMember, "
                "SuspendType, DaySuspend, SuspendTenorJumlah, SuspendTenorSatuan, "
                "SuspendTenorMultiply, UpdateDate) VALUES (1, 'Umum', 3, :days, "
                "'Berkelipatan', :fine, 1, 'Hari', 1, 1, 7, 1, 'Berkelipatan', :susp, 1, "
                "'Hari', 1, :t)"
            ),
            {"days": LOAN_DAYS, "fine": FINE_PER_DAY, "susp": SUSPEND_PER_DAY, "t": now},
        )
        conn.execute(
            text(
                "INSERT INTO members (MemberNo, Fullname, EndDate, JenisAnggota_id, "
                "StatusAnggota_id, CreateDate, UpdateDate) VALUES "
                "(:no, :name, :end, 1, :status, :t, :t)"
            ),
            [
                {"no": f"A{n:04d}", "name": f"Anggota {n}", "end": today + timedelta(days=365),
                 "status": 2 if n == 3 else 3, "t": now}
                for n in range(1, members + 1)
            ],
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO catalogs (ID, Title, UpdateDate) VALUES (:id, :title, :t)"),
            [{"id": n, "title": f"Judul Buku {n}", "t": now} for n in range(1, items + 1)],
        )
        conn.execute(
            text(
                "INSERT INTO collections (NomorBarcode, Catalog_id, Status_id, UpdateDate) "
                "VALUES (:code, :c, 1, :t)"
            ),
            [{"code": f"C{n:05d}", "c": n, "t": now} for n in range(1, items + 1)],
        )
        conn.execute(
            text("INSERT INTO settingparameters (Name, Value) VALUES (:n, :v)"),
            [{"n": "IsSaturdayHoliday", "v": "False"}, {"n": "IsSundayHoliday", "v": "True"}],
        )
        conn.execute(
            text("INSERT INTO holidays (Dates, Names, CreateDate) VALUES (:d, :n, :t)"),
            [{"d": today + timedelta(days=n), "n": f"Libur {n}", "t": now}
             for n in HOLIDAY_OFFSETS],
        )  # fmt: skip
        seed_guest_book_masters(conn)


def seed_guest_book_masters(conn: Connection) -> None:
    """INLISLite's usual master rows for the guest book, and its reading room (location
    4) in library location 1."""
    conn.execute(text("INSERT INTO jenis_kelamin (ID, Name) VALUES (1, 'Laki-laki'), "
                      "(2, 'Perempuan')"))  # fmt: skip
    conn.execute(
        text("INSERT INTO master_pendidikan (id, Nama) VALUES (:i, :n)"),
        [{"i": i, "n": n} for i, n in enumerate(["SD", "SMP", "SMA", "D3", "S1", "S2"], 1)],
    )
    conn.execute(
        text("INSERT INTO master_pekerjaan (id, Pekerjaan) VALUES (:i, :n)"),
        [{"i": i, "n": n} for i, n in enumerate(["PNS", "Pelajar", "Mahasiswa", "Guru"], 1)],
    )
    conn.execute(
        text(
            "INSERT INTO tujuan_kunjungan (ID, Code, TujuanKunjungan, Member, NonMember, "
            "Rombongan) VALUES (1, '01', 'Membaca', 1, 1, 1), (2, '02', 'Meminjam', 1, 0, 0), "
            "(3, '03', 'Kunjungan Studi', 0, 0, 1)"
        )
    )
    conn.execute(text("INSERT INTO locations (ID, LocationLibrary_id, Name) "
                      "VALUES (4, 1, 'Ruang Baca')"))  # fmt: skip
