"""Fakes of APIs no test can reach here (each module says what it fakes and why)."""
