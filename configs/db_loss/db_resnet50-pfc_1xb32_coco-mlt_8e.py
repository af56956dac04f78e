# Distribution-Balanced loss without focal modulation: class-aware resampling + re-balanced weighting + NTR
# (kappa 0.05, lambda 2) on BCE: the "DB" row. python tools/train.py THIS
_base_ = ['./bce_resnet50-pfc_1xb32_coco-mlt_8e.py']
model = dict(head=dict(loss=dict(reweight='rebalance', focal=False, ntr_kappa=0.05, ntr_lambda=2.0)))
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=3, reduce=4))
