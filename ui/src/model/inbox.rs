//! What the dashboard knows of the user's inbox: the recent notifications (newest first), the
//! apps' badges, and how the shell hears of new ones.

use atrium_proto::inbox::{BadgeView, NotificationView};
use atrium_proto::ipc::InboxMode;

/// Notifications kept for the notification centre (the oldest are dropped first).
pub const KEEP: usize = 200;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inbox {
    /// Newest first, each id once.
    pub notifications: Vec<NotificationView>,
    pub badges: Vec<BadgeView>,
    /// None until the shell says.
    pub mode: Option<InboxMode>,
}

impl Inbox {
    /// Adds notifications (a first page, or one from the stream), keeping newest first.
    pub fn add(&mut self, more: Vec<NotificationView>) {
        for n in more {
            match self.notifications.iter_mut().find(|x| x.id == n.id) {
                // The first word on read stays: a later copy of the same may be older.
                Some(x) => x.read |= n.read,
                None => self.notifications.push(n),
            }
        }
        self.notifications.sort_by_key(|n| std::cmp::Reverse(n.id));
        self.notifications.truncate(KEEP);
    }

    pub fn mark_read(&mut self, ids: &[i64]) {
        for n in self
            .notifications
            .iter_mut()
            .filter(|n| ids.contains(&n.id))
        {
            n.read = true;
        }
    }

    /// Unread notifications of an install, among the recent ones.
    pub fn unread(&self, install_id: i64) -> u32 {
        self.notifications
            .iter()
            .filter(|n| n.install_id == install_id && !n.read)
            .count() as u32
    }

    /// An install's badge: the count the app set, or its unread notifications if more.
    pub fn badge(&self, install_id: i64) -> u32 {
        let set = self
            .badges
            .iter()
            .find(|b| b.install_id == install_id)
            .map_or(0, |b| b.count);
        set.max(self.unread(install_id))
    }

    /// The sum of every install's badge (the window's title shows it).
    pub fn total(&self) -> u32 {
        let mut ids: Vec<i64> = self.badges.iter().map(|b| b.install_id).collect();
        ids.extend(self.notifications.iter().map(|n| n.install_id));
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(|id| self.badge(id)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(id: i64, install_id: i64, read: bool) -> NotificationView {
        NotificationView {
            id,
            install_id,
            app_name: format!("App {install_id}"),
            company_id: 1,
            title: format!("n{id}"),
            body: String::new(),
            path: None,
            personal: false,
            created_at: id,
            read,
        }
    }

    #[test]
    fn notifications_stay_newest_first_once_each_and_read_stays_read() {
        let mut inbox = Inbox::default();
        inbox.add(vec![note(2, 1, false), note(5, 1, false)]);
        inbox.add(vec![note(3, 2, false), note(5, 1, false)]);
        let ids: Vec<i64> = inbox.notifications.iter().map(|n| n.id).collect();
        assert_eq!(ids, [5, 3, 2]);
        inbox.mark_read(&[5]);
        inbox.add(vec![note(5, 1, false)]);
        assert!(inbox.notifications[0].read);
        assert_eq!(inbox.unread(1), 1);
    }

    #[test]
    fn a_badge_is_the_apps_count_or_its_unread_if_more_and_the_total_adds_them() {
        let mut inbox = Inbox::default();
        inbox.add(vec![note(1, 7, false), note(2, 7, false), note(3, 8, true)]);
        assert_eq!(inbox.badge(7), 2);
        inbox.badges = vec![
            BadgeView {
                install_id: 7,
                count: 1,
            },
            BadgeView {
                install_id: 9,
                count: 4,
            },
        ];
        assert_eq!(inbox.badge(7), 2);
        assert_eq!(inbox.badge(8), 0);
        assert_eq!(inbox.badge(9), 4);
        assert_eq!(inbox.total(), 6);
        inbox.mark_read(&[1, 2]);
        assert_eq!(inbox.total(), 5);
    }

    #[test]
    fn only_the_most_recent_are_kept() {
        let mut inbox = Inbox::default();
        inbox.add((0..KEEP as i64 + 5).map(|i| note(i, 1, false)).collect());
        assert_eq!(inbox.notifications.len(), KEEP);
        assert_eq!(inbox.notifications.last().map(|n| n.id), Some(5));
    }
}
