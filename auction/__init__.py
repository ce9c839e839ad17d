"""Online auction and bidding engine for technology results (科技成果竞价/拍卖)."""

__version__ = "0.1.0"
