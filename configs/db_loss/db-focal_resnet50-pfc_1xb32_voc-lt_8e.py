# Distribution-Balanced loss, the paper's model (configs/voc/LT_resnet50_pfc_DB.py of the official code): class-aware
# resampling (3 images per class visit, epoch = max count x C / 4) + re-balanced weighting (alpha 0.1, beta 10,
# mu 0.3) + NTR (kappa 0.05, lambda 5) + focal (gamma 2, x 2.0). Paper: 78.94 mAP. python tools/train.py THIS
_base_ = ['./bce_resnet50-pfc_1xb32_voc-lt_8e.py']
model = dict(head=dict(loss=dict(reweight='rebalance', focal=True, ntr_kappa=0.05, ntr_lambda=5.0)))
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=3, reduce=4))
