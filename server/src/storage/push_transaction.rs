//! The [`PushTransaction`](super::PushTransaction) both backends run: the
//! same code over the SQL of `push_sql.rs`.

/// Implements [`PushTransaction`] for `$name`, the transaction type of a
/// backend (see `sql_transaction!`); `$locking` ends the claim query.
macro_rules! push_transaction {
    ($name:ident, $locking:expr) => {
        #[async_trait::async_trait]
        impl $crate::storage::PushTransaction for $name {
            async fn subscriptions_timestamp(
                &mut self,
                user_id: &str,
                now: Timestamp,
            ) -> Result<Timestamp, StorageError> {
                let parent = push_sql::timestamps_parent(user_id);
                let stored = sqlx::query_scalar(sql::SELECT_TIMESTAMP)
                    .bind(&parent)
                    .bind(push_sql::SUBSCRIPTIONS)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                if let Some(timestamp) = stored {
                    return Ok(timestamp);
                }
                let fixed = sqlx::query(sql::LOCK_TIMESTAMP)
                    .bind(&parent)
                    .bind(push_sql::SUBSCRIPTIONS)
                    .bind(now)
                    .execute(&mut *self.tx)
                    .await;
                match fixed {
                    Ok(_) => Ok(now),
                    // As for the object sets: a SQLite read that cannot
                    // write now reads `now` without keeping it.
                    Err(error) if sql::is_busy(&error) => Ok(now),
                    Err(error) => Err(error.into()),
                }
            }

            async fn next_subscriptions_timestamp(
                &mut self,
                user_id: &str,
                now: Timestamp,
            ) -> Result<Timestamp, StorageError> {
                let timestamp = sqlx::query_scalar(sql::NEXT_TIMESTAMP)
                    .bind(push_sql::timestamps_parent(user_id))
                    .bind(push_sql::SUBSCRIPTIONS)
                    .bind(now)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(timestamp)
            }

            async fn put_subscription(
                &mut self,
                subscription: &Subscription,
            ) -> Result<bool, StorageError> {
                let existing: i64 = sqlx::query_scalar(push_sql::SUBSCRIPTION_EXISTS)
                    .bind(&subscription.id)
                    .fetch_one(&mut *self.tx)
                    .await?;
                let channels = serde_json::to_string(&subscription.channels)
                    .unwrap_or_else(|_| "[]".to_owned());
                sqlx::query(push_sql::UPSERT_SUBSCRIPTION)
                    .bind(&subscription.id)
                    .bind(&subscription.user_id)
                    .bind(&subscription.endpoint)
                    .bind(&subscription.origin)
                    .bind(&subscription.p256dh)
                    .bind(&subscription.auth)
                    .bind(subscription.expiration_time)
                    .bind(channels)
                    .bind(subscription.last_modified)
                    .execute(&mut *self.tx)
                    .await?;
                sqlx::query(push_sql::DELETE_CHANNELS)
                    .bind(&subscription.id)
                    .execute(&mut *self.tx)
                    .await?;
                for channel in &subscription.channels {
                    sqlx::query(push_sql::INSERT_CHANNEL)
                        .bind(channel)
                        .bind(&subscription.id)
                        .execute(&mut *self.tx)
                        .await?;
                }
                Ok(existing == 0)
            }

            async fn get_subscription(
                &mut self,
                user_id: &str,
                id: &str,
            ) -> Result<Option<Subscription>, StorageError> {
                let row: Option<push_sql::SubscriptionRow> =
                    sqlx::query_as(&push_sql::select_subscription())
                        .bind(user_id)
                        .bind(id)
                        .fetch_optional(&mut *self.tx)
                        .await?;
                Ok(row.map(push_sql::SubscriptionRow::into_subscription))
            }

            async fn list_subscriptions(
                &mut self,
                user_id: &str,
            ) -> Result<Vec<Subscription>, StorageError> {
                let rows: Vec<push_sql::SubscriptionRow> =
                    sqlx::query_as(&push_sql::list_subscriptions())
                        .bind(user_id)
                        .fetch_all(&mut *self.tx)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(push_sql::SubscriptionRow::into_subscription)
                    .collect())
            }

            async fn delete_subscription(
                &mut self,
                user_id: &str,
                id: &str,
            ) -> Result<bool, StorageError> {
                let result = sqlx::query(push_sql::DELETE_SUBSCRIPTION)
                    .bind(user_id)
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(result.rows_affected() > 0)
            }

            async fn delete_subscriptions_of(
                &mut self,
                user_id: &str,
            ) -> Result<Vec<String>, StorageError> {
                let ids = sqlx::query_scalar(push_sql::DELETE_SUBSCRIPTIONS_OF)
                    .bind(user_id)
                    .fetch_all(&mut *self.tx)
                    .await?;
                Ok(ids)
            }

            async fn delete_endpoint(&mut self, endpoint: &str) -> Result<u64, StorageError> {
                let result = sqlx::query(push_sql::DELETE_ENDPOINT)
                    .bind(endpoint)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(result.rows_affected())
            }

            async fn has_followers(&mut self, channels: &[String]) -> Result<bool, StorageError> {
                if channels.is_empty() {
                    return Ok(false);
                }
                let text = push_sql::has_followers(channels.len());
                let mut query = sqlx::query_scalar::<_, i64>(&text);
                for channel in channels {
                    query = query.bind(channel);
                }
                Ok(query.fetch_one(&mut *self.tx).await? > 0)
            }

            async fn enqueue_notification(
                &mut self,
                notification: &NewNotification,
            ) -> Result<u64, StorageError> {
                let readers = serde_json::to_string(&notification.readers)
                    .unwrap_or_else(|_| "[]".to_owned());
                let id: i64 = sqlx::query_scalar(push_sql::INSERT_NOTIFICATION)
                    .bind(&notification.channel)
                    .bind(&notification.payload)
                    .bind(notification.ttl_secs)
                    .bind(readers)
                    .bind(notification.created_at)
                    .fetch_one(&mut *self.tx)
                    .await?;
                let text = push_sql::enqueue_deliveries(notification.audience.len());
                let mut query = sqlx::query(&text).bind(id).bind(notification.created_at);
                for channel in &notification.audience {
                    query = query.bind(channel);
                }
                let queued = query.execute(&mut *self.tx).await?.rows_affected();
                if queued == 0 {
                    sqlx::query(push_sql::DELETE_NOTIFICATION_IF_DONE)
                        .bind(id)
                        .execute(&mut *self.tx)
                        .await?;
                }
                Ok(queued)
            }

            async fn claim_deliveries(
                &mut self,
                now: Timestamp,
                leased_until: Timestamp,
                limit: u32,
                skipped_origins: &[String],
            ) -> Result<Vec<Delivery>, StorageError> {
                let text = push_sql::claim_deliveries(skipped_origins.len(), $locking);
                let mut query = sqlx::query_as::<_, push_sql::DeliveryRow>(&text)
                    .bind(now)
                    .bind(i64::from(limit));
                for origin in skipped_origins {
                    query = query.bind(origin);
                }
                let rows = query.fetch_all(&mut *self.tx).await?;
                for chunk in rows.chunks(push_sql::MAX_LISTED) {
                    let text = push_sql::lease_deliveries(chunk.len());
                    let mut query = sqlx::query(&text).bind(leased_until);
                    for row in chunk {
                        query = query.bind(row.0);
                    }
                    query.execute(&mut *self.tx).await?;
                }
                Ok(rows.into_iter().map(push_sql::into_delivery).collect())
            }

            async fn finish_deliveries(
                &mut self,
                finished: &[(&Delivery, &DeliveryOutcome)],
                now: Timestamp,
            ) -> Result<(), StorageError> {
                let ids: Vec<i64> = finished.iter().map(|(delivery, _)| delivery.id).collect();
                for chunk in ids.chunks(push_sql::MAX_LISTED) {
                    let text = push_sql::delete_deliveries(chunk.len());
                    let mut query = sqlx::query(&text);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    query.execute(&mut *self.tx).await?;
                }

                // Subscriptions by how many of their messages went out, so
                // that one statement counts each group.
                let mut sent: std::collections::HashMap<&str, i64> = Default::default();
                for (delivery, outcome) in finished {
                    match outcome {
                        DeliveryOutcome::Sent => {
                            *sent.entry(delivery.subscription_id.as_str()).or_default() += 1;
                        }
                        DeliveryOutcome::Failed(error) => {
                            sqlx::query(push_sql::COUNT_FAILED)
                                .bind(&delivery.subscription_id)
                                .bind(error.status.map(i64::from))
                                .bind(error.at)
                                .bind(&error.reason)
                                .execute(&mut *self.tx)
                                .await?;
                        }
                        DeliveryOutcome::Skipped => {}
                    }
                }
                let mut by_count: std::collections::BTreeMap<i64, Vec<&str>> = Default::default();
                for (subscription_id, count) in sent {
                    by_count.entry(count).or_default().push(subscription_id);
                }
                for (count, subscriptions) in by_count {
                    for chunk in subscriptions.chunks(push_sql::MAX_LISTED) {
                        let text = push_sql::count_sent(chunk.len());
                        let mut query = sqlx::query(&text).bind(count).bind(now);
                        for subscription_id in chunk {
                            query = query.bind(*subscription_id);
                        }
                        query.execute(&mut *self.tx).await?;
                    }
                }

                let mut notifications: Vec<i64> = finished
                    .iter()
                    .map(|(delivery, _)| delivery.notification_id)
                    .collect();
                notifications.sort_unstable();
                notifications.dedup();
                for chunk in notifications.chunks(push_sql::MAX_LISTED) {
                    let text = push_sql::delete_notifications_if_done(chunk.len());
                    let mut query = sqlx::query(&text);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    query.execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn retry_delivery(
                &mut self,
                delivery: &Delivery,
                due_at: Timestamp,
                error: Option<&DeliveryError>,
            ) -> Result<(), StorageError> {
                let attempts = delivery.attempts + i64::from(error.is_some());
                sqlx::query(push_sql::RESCHEDULE_DELIVERY)
                    .bind(delivery.id)
                    .bind(due_at)
                    .bind(attempts)
                    .execute(&mut *self.tx)
                    .await?;
                if let Some(error) = error {
                    sqlx::query(push_sql::NOTE_ERROR)
                        .bind(&delivery.subscription_id)
                        .bind(error.status.map(i64::from))
                        .bind(error.at)
                        .bind(&error.reason)
                        .execute(&mut *self.tx)
                        .await?;
                }
                Ok(())
            }

            async fn purge_notifications(&mut self) -> Result<u64, StorageError> {
                let result = sqlx::query(push_sql::PURGE_NOTIFICATIONS)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(result.rows_affected())
            }

            async fn count_deliveries(&mut self) -> Result<u64, StorageError> {
                let count: i64 = sqlx::query_scalar(push_sql::COUNT_DELIVERIES)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(u64::try_from(count).unwrap_or_default())
            }
        }
    };
}

pub(super) use push_transaction;
