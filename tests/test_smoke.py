from azctl.services import booking, reports


def test_book_and_confirm(session, make_performance, book):
    performance = make_performance(capacity=4)
    submitted = book(performance, 3)
    booking.confirm_booking(session, token=submitted.confirm_token)
    summary = reports.performance_summary(session, performance_id=performance.id)
    assert summary.seats.confirmed_seats == 3
