# Cross-entropy with square-root sampling (class c drawn with probability proportional to sqrt(n_c); Mahajan et al.,
# ECCV 2018; the "square-root" joint-training row of classifier-balancing), ResNeXt-50 on ImageNet-LT, 90 epochs.
# An epoch keeps len(dataset) draws; the seed is the runtime's (randomness.seed).
_base_ = './resnext50-32x4d_8xb64_imagenet-lt_90e.py'
train_dataloader = dict(sampler=dict(_delete_=True, type='PowerSampler', q=0.5))
