# RIDE (Wang et al., ICLR 2021), 3 experts, LeNet-5 on Digits-LT (CPU demo): the CIFAR-100 settings (lambda -0.45,
# reweight_factor 0.05, LDAM-DRW per expert) with DRW from epoch 24 of 30 (80% of the run, as 160/200 and 80/100).
# Experts in the head over the shared LeNet-5 feature (each a Linear(120, 64) + BN + ReLU block and a cosine
# classifier x 30); no router. python tools/train.py THIS_CONFIG
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(
    _delete_=True, type='MultiExpertClsHead', num_classes={{_base_.num_classes}}, in_channels=120, num_experts=3,
    expert_channels=64, scale=30.0,
    loss=dict(type='RIDELoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
              additional_diversity_factor=-0.45, reweight_factor=0.05)))
custom_hooks = [dict(type='DRWHook', milestone=24, beta=0.9999)]
