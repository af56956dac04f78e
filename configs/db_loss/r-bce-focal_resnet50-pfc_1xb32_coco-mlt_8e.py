# Class-aware resampling + re-balanced weighting + focal loss, without negative-tolerant regularisation: the
# "R-BCE-Focal" row. python tools/train.py THIS
_base_ = ['./bce_resnet50-pfc_1xb32_coco-mlt_8e.py']
model = dict(head=dict(loss=dict(reweight='rebalance', focal=True)))
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=3, reduce=4))
