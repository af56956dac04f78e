# Cross-entropy with square-root sampling (p_c proportional to sqrt(n_c)), ResNet-32 on CIFAR-100-LT IF 100, 200 epochs.
_base_ = './resnet32_1xb128_cifar100-lt-if100_200e.py'
train_dataloader = dict(sampler=dict(_delete_=True, type='PowerSampler', q=0.5))
