"""The kiosk's screens; each has its own .kv file in ``kiosk/ui/kv``."""

from __future__ import annotations


def registry() -> dict[str, type]:
    """Screen name -> class, in the order the ScreenManager gets them (Home first)."""
    from kiosk.ui.screens.account import AccountScreen
    from kiosk.ui.screens.borrow import BorrowScreen
    from kiosk.ui.screens.door import DoorScreen
    from kiosk.ui.screens.events import EventsScreen
    from kiosk.ui.screens.guestbook import GuestBookScreen
    from kiosk.ui.screens.home import HomeScreen
    from kiosk.ui.screens.oos import OutOfServiceScreen
    from kiosk.ui.screens.ret import ReturnScreen
    from kiosk.ui.screens.staff import StaffScreen
    from kiosk.ui.screens.survey import SurveyScreen

    return {
        "home": HomeScreen,
        "borrow": BorrowScreen,
        "return": ReturnScreen,
        "account": AccountScreen,
        "events": EventsScreen,
        "door": DoorScreen,
        "guestbook": GuestBookScreen,
        "survey": SurveyScreen,
        "staff": StaffScreen,
        "oos": OutOfServiceScreen,
    }
